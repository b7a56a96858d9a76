// The model variants offered by the server (GET /api/models) and the two selectors. The
// server only serves what `sdk export --format tfjs` made (`make demo` runs it).

const STATUS_TEXT = {
  ready: "",
  missing: "not exported",
  broken: "unreadable",
};

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

const title = (name) => name.charAt(0).toUpperCase() + name.slice(1);

/** Keeps the model and quantization <select>s in sync with the listing. */
export class ModelPicker {
  constructor(modelSelect, quantSelect) {
    this.modelSelect = modelSelect;
    this.quantSelect = quantSelect;
    this.variants = [];
    modelSelect.addEventListener("change", () => this.fillQuantizations());
  }

  /** Refill the selectors, keeping the current choice (or `preferred`) when possible. */
  update(listing, preferred) {
    const keep = this.selected()?.name || preferred || listing.default;
    this.variants = listing.variants;
    const models = [...new Set(this.variants.map((v) => v.model))];
    this.modelSelect.replaceChildren(
      ...models.map((m) => option(m, title(m), !this.variants.some((v) => v.model === m && v.status === "ready"))),
    );
    const wanted = this.variants.find((v) => v.name === keep);
    if (wanted) this.modelSelect.value = wanted.model;
    this.fillQuantizations(wanted?.name);
  }

  fillQuantizations(name) {
    const model = this.modelSelect.value;
    const choices = this.variants.filter((v) => v.model === model);
    this.quantSelect.replaceChildren(
      ...choices.map((v) => {
        const note = STATUS_TEXT[v.status] ?? v.status;
        return option(v.name, note ? `${v.quantization} (${note})` : v.quantization, v.status !== "ready");
      }),
    );
    const ready = choices.filter((v) => v.status === "ready");
    const pick = choices.find((v) => v.name === name && v.status === "ready") || ready[0];
    if (pick) this.quantSelect.value = pick.name;
  }

  /** The chosen variant entry (null while nothing is ready). */
  selected() {
    const v = this.variants.find((x) => x.name === this.quantSelect.value);
    return v && v.status === "ready" ? v : null;
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
