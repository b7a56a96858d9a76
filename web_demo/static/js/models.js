// The model variants offered by the server (GET /api/models) and the selectors: model,
// quantization and engine. A variant is one export folder in a format a browser engine runs
// (TF.js: tfjs, LiteRT.js: tflite, onnxruntime-web: onnx); the server only serves what
// `sdk export` made (`make demo` runs it).

const STATUS_TEXT = {
  ready: "",
  missing: "not exported",
  broken: "unreadable",
};

/** Engine name (what load() calls it) of each export format, and back. */
export const ENGINE_OF_FORMAT = { tfjs: "tfjs", tflite: "litert", onnx: "ort" };
const FORMAT_OF_ENGINE = Object.fromEntries(
  Object.entries(ENGINE_OF_FORMAT).map(([format, engine]) => [engine, format]));

export async function fetchModels() {
  const response = await fetch("/api/models", { cache: "no-store" });
  if (!response.ok) throw new Error(`model list: HTTP ${response.status}`);
  return response.json();
}

function option(value, text, disabled = false) {
  const el = document.createElement("option");
  el.value = value;
  el.textContent = text;
  el.disabled = disabled;
  return el;
}

// The display name: the one an imported model declares ("COCO (NanoDet)"), else "Fast".
const title = (name, variants) => variants.find((v) => v.model === name && v.title)?.title ??
  name.charAt(0).toUpperCase() + name.slice(1);
const unique = (values) => [...new Set(values)];

/** Keeps the model, quantization and engine <select>s in sync with the listing. */
export class ModelPicker {
  constructor(modelSelect, quantSelect, engineSelect) {
    this.modelSelect = modelSelect;
    this.quantSelect = quantSelect;
    this.engineSelect = engineSelect;
    this.variants = [];
    modelSelect.addEventListener("change", () => this.fillQuantizations());
    quantSelect.addEventListener("change", () => this.markEngines());
  }

  /**
   * Refill the selectors, keeping the current choice, else `preferred` (a variant name: its
   * model, quantization and engine), else the listing's default.
   */
  update(listing, preferred) {
    const current = this.modelSelect.value
      ? { model: this.modelSelect.value, quantization: this.quantSelect.value } : null;
    const wanted = listing.variants.find((v) => v.name === (preferred || listing.default));
    this.variants = listing.variants;
    const models = unique(this.variants.map((v) => v.model));
    this.modelSelect.replaceChildren(...models.map((m) => option(m, title(m, this.variants),
      !this.variants.some((v) => v.model === m && v.status === "ready"))));
    const keep = current ?? wanted;
    if (keep) this.modelSelect.value = keep.model;
    if (!current && wanted && preferred) {
      this.engineSelect.value = ENGINE_OF_FORMAT[wanted.format] ?? "auto";
    }
    this.fillQuantizations(keep?.quantization);
  }

  /** The quantizations of the chosen model, over every format (ready ones selectable). */
  fillQuantizations(preferred) {
    const model = this.modelSelect.value;
    const choices = this.variants.filter((v) => v.model === model);
    const quantizations = unique(choices.map((v) => v.quantization));
    this.quantSelect.replaceChildren(...quantizations.map((q) => {
      const of = choices.filter((v) => v.quantization === q);
      const ready = of.some((v) => v.status === "ready");
      const note = ready ? "" : (STATUS_TEXT[of[0].status] ?? of[0].status);
      return option(q, note ? `${q} (${note})` : q, !ready);
    }));
    const ready = quantizations.filter((q) => this.readyFor(model, q).length);
    const pick = ready.includes(preferred) ? preferred : ready[0];
    if (pick) this.quantSelect.value = pick;
    this.markEngines();
  }

  /** Ready variants of `model` at `quantization`. */
  readyFor(model, quantization) {
    return this.variants.filter((v) => v.model === model && v.quantization === quantization &&
      v.status === "ready");
  }

  /** Engines without an export of the chosen model and quantization are shown disabled. */
  markEngines() {
    const formats = new Set(this.readyFor(this.modelSelect.value, this.quantSelect.value)
      .map((v) => v.format));
    for (const el of this.engineSelect.options) {
      el.disabled = el.value !== "auto" && !formats.has(FORMAT_OF_ENGINE[el.value]);
    }
  }

  /**
   * The variants to load for the current choice: the chosen engine's export, or for "auto"
   * every ready export of the model and quantization (load() times them and keeps the
   * fastest). Empty while nothing fits.
   */
  selected() {
    const ready = this.readyFor(this.modelSelect.value, this.quantSelect.value);
    const engine = this.engineSelect.value;
    if (engine === "auto") return ready;
    return ready.filter((v) => v.format === FORMAT_OF_ENGINE[engine]);
  }
}

/** Show which variants are missing or incomplete, and what to run: the server builds none. */
export function renderMissing(listing, box, summary, list) {
  const noted = listing.variants.filter((v) => v.status !== "ready" || v.message);
  box.hidden = !noted.length;
  if (box.hidden) return;
  summary.textContent = listing.default
    ? "Some variants are missing or incomplete:"
    : `No model is exported yet: ${listing.hint}.`;
  list.replaceChildren(...noted.map((v) => {
    const li = document.createElement("li");
    li.textContent = `${v.name}: ${v.message || STATUS_TEXT[v.status] || v.status}`;
    return li;
  }));
}
