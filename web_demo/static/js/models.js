// The model variants offered by the server (GET /api/models) and the two selectors.

const STATUS_TEXT = {
  ready: "",
  queued: "queued",
  building: "building…",
  failed: "failed",
  unavailable: "unavailable",
  missing: "not exported",
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

/** Show what the server is building (or why nothing can be built). */
export function renderBuild(listing, box, summary, list) {
  const build = listing.build;
  const notReady = listing.variants.filter((v) => v.status !== "ready");
  box.hidden = !notReady.length && build.phase !== "running";
  if (box.hidden) return;
  const progress = build.total ? ` (${build.done}/${build.total})` : "";
  const phases = {
    running: `Building TF.js exports${progress}: ${build.current || ""}`,
    waiting: "Another server process is building the exports…",
    unavailable: `Missing exports cannot be built here: ${build.message}`,
  };
  summary.textContent = phases[build.phase] || (listing.default ? "Some variants are not available:" :
    "No model is available yet.");
  list.replaceChildren(...notReady.map((v) => {
    const li = document.createElement("li");
    li.textContent = `${v.name}: ${v.message || STATUS_TEXT[v.status] || v.status}`;
    return li;
  }));
}

/** True while the server may still turn a variant ready (keep polling). */
export function buildActive(listing) {
  return ["running", "waiting"].includes(listing.build.phase) ||
    listing.variants.some((v) => v.status === "queued" || v.status === "building");
}
