// The demo page: camera (or an image) -> detector -> boxes, with model/quantization/engine/
// backend switching, live FPS and the "Run benchmark" button. No framework; every module is
// an ES module. The detector runs in Web Workers (loadInWorker): the page stays responsive.
import { loadInWorker } from "/static/sdk/detector.js";

import { runBenchmark } from "./bench.js";
import { cameraUnavailableReason, explainCameraError, openCamera, play, stopStream } from "./camera.js";
import { deviceName, rememberDeviceName } from "./env.js";
import { LiveView } from "./live.js";
import { fetchModels, ModelPicker, renderMissing } from "./models.js";
import { enqueue, pending, Retrier } from "./outbox.js";
import { LiveStats } from "./stats.js";

const $ = (id) => document.getElementById(id);
const page = JSON.parse($("page-data").textContent);
const MAX_LISTED = 20;

// "?variant=fast-tflite-fp32&engine=litert&backend=wasm" preselects (a variant also picks its
// engine), so a setup can be shared as a link.
const params = new URLSearchParams(window.location.search);
const state = { stream: null, facing: "environment", loading: 0, stillUrl: null };
const stats = new LiveStats();
const picker = new ModelPicker($("model"), $("quantization"), $("engine-select"));
const live = new LiveView({ video: $("video"), still: $("still"), overlay: $("overlay") }, onResult);
const retrier = new Retrier("/api/v1/reports", showOutbox);

function setStatus(text, isError = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", isError);
}

function setNotice(text) {
  $("notice").textContent = text || "";
  $("notice").hidden = !text;
}

const fmt = (value, digits = 1) => (value == null ? "–" : value.toFixed(digits));

function onResult(detections, latencyMs) {
  stats.add(latencyMs);
  $("fps").textContent = fmt(stats.fps());
  $("p50").textContent = fmt(stats.p50());
  $("detections").replaceChildren(...detections.slice(0, MAX_LISTED).map((d) => {
    const li = document.createElement("li");
    li.textContent = `${d.label} ${Math.round(d.score * 100)}%`;
    // Machine-readable copy (tests compare it with the Python runtime on the same frame).
    Object.assign(li.dataset, { label: d.label, score: d.score.toFixed(4), bbox: d.bbox.join(",") });
    return li;
  }));
  document.body.dataset.frames = String(Number(document.body.dataset.frames || 0) + 1);
}

/** "wasm (LiteRT.js 2.5.3, 2 threads, SIMD)": the backend first, then the engine. */
function backendText(info) {
  const engine = [info.engineLabel ?? info.engine, info.version].filter(Boolean).join(" ");
  const extras = [engine, info.threads ? `${info.threads} threads` : "",
    info.simd ? "SIMD" : ""];
  const detail = extras.filter(Boolean).join(", ");
  return detail ? `${info.backend} (${detail})` : info.backend;
}

/** The variant `detector` runs: the one of the format its engine chose. */
function chosenVariant(detector, variants) {
  return variants.find((v) => v.format === detector.info.format) ?? variants[0];
}

/** Make `detector` the live one. */
function adopt(detector, variant) {
  const info = detector.info;
  $("backend").textContent = backendText(info);
  Object.assign(document.body.dataset, { detector: "ready", variant: variant.name,
    backend: info.backend, engine: info.engine });
  const chosen = info.trials ? ` (fastest of ${Object.keys(info.trials).length} tried in ` +
    `${fmt(info.chooseMs / 1000)} s)` : "";
  setStatus(`${variant.name} on ${info.engineLabel} ${info.backend}${chosen}: loaded in ` +
    `${fmt(info.loadMs, 0)} ms, first inference ${fmt(info.warmupMs, 0)} ms`);
  stats.reset();
  live.setDetector(detector);
}

/** What the selectors ask for: the variants to try, the engine and the backend. */
function request() {
  return { variants: picker.selected(), engine: $("engine-select").value,
    backend: $("backend-select").value };
}

/** Load the selected variant(s) on the selected engine and backend, disposing the previous
 * detector first (one model's threads at a time). */
async function useVariant() {
  const { variants, engine, backend } = request();
  if (!variants.length) {
    setStatus("No export of this model and quantization for that engine: pick another.", true);
    return;
  }
  const what = variants.length === 1 ? variants[0].name
    : `${variants.map((v) => v.name).join(", ")} (the fastest)`;
  const token = ++state.loading;
  document.body.dataset.detector = "loading";
  setStatus(`Loading ${what} on ${backend}…`);
  (await live.detach())?.dispose();
  live.clear();
  try {
    const detector = await loadInWorker(variants.map((v) => v.url), { engine, backend });
    if (token !== state.loading) return detector.dispose(); // another switch came first
    adopt(detector, chosenVariant(detector, variants));
  } catch (err) {
    if (token !== state.loading) return;
    document.body.dataset.detector = "error";
    $("backend").textContent = "–";
    setStatus(`Could not run ${what} on ${backend}: ${err.message}. ` +
      "Pick another backend, engine or model.", true);
  }
}

/** Without a camera: say why, and show something to detect on. */
async function fallback(reason) {
  setNotice(reason);
  document.body.dataset.camera = "off";
  $("camera-start").hidden = Boolean(cameraUnavailableReason());
  if (live.mode !== "still" && page.samples.length) await showImage(page.samples[0].url);
}

async function startCamera() {
  const reason = cameraUnavailableReason();
  if (reason) return fallback(reason);
  try {
    stopStream(state.stream);
    state.stream = await openCamera(state.facing);
    await play($("video"), state.stream);
  } catch (err) {
    state.stream = null;
    return fallback(explainCameraError(err));
  }
  setNotice("");
  $("camera-start").hidden = true;
  document.body.dataset.camera = "on";
  live.showCamera();
}

async function showImage(url) {
  stopStream(state.stream);
  state.stream = null;
  document.body.dataset.camera = "off";
  $("camera-start").hidden = Boolean(cameraUnavailableReason());
  stats.reset();
  await live.showStill(url);
}

function showBenchResult(report, problem) {
  const t = report.timing;
  const rows = [
    ["Engine and backend", backendText({ ...report.runtime, engine: report.runtime.name })],
    ["FPS (1000 / p50)", fmt(t.fps)],
    ["Latency p50 / p90 / p99", `${fmt(t.latency_ms.p50)} / ${fmt(t.latency_ms.p90)} / ${fmt(t.latency_ms.p99)} ms`],
    ["Load / first inference", `${fmt(t.load_ms, 0)} / ${fmt(t.first_inference_ms, 0)} ms`],
    ["Runs (warm-up)", `${t.runs} (${t.warmup_runs})`],
    ["Accuracy vs fp32", report.accuracy.probe_images
      ? `${Math.round(report.accuracy.matched_fraction * 100)}% recalled on ` +
        `${report.accuracy.probe_images} probe images${report.accuracy.passed ? "" : " (not passed)"}`
      : `unavailable: ${problem}`],
  ];
  $("bench-result").replaceChildren(...rows.flatMap(([k, v]) => {
    const dt = document.createElement("dt");
    const dd = document.createElement("dd");
    [dt.textContent, dd.textContent] = [k, v];
    return [dt, dd];
  }));
}

/** Outcome of an outbox flush, in words. */
function showOutbox(results, waiting) {
  const lines = results.filter((r) => r.outcome !== "retry").map((r) => {
    const id = r.reportId.slice(0, 8);
    if (r.outcome === "rejected") return `Report ${id} was rejected: ${r.body?.message || r.status}.`;
    return r.body.valid ? `Report ${id} stored and ranked.`
      : `Report ${id} stored, not ranked: ${r.body.reasons.join("; ")}.`;
  });
  if (waiting) lines.push(`${waiting} report(s) waiting for the network; retrying…`);
  $("outbox-status").textContent = lines.join(" ");
  $("bench").hidden = false;
  document.body.dataset.outbox = String(waiting);
}

async function benchmark() {
  const { variants, engine, backend } = request();
  if (!variants.length) return;
  const button = $("bench-run");
  button.disabled = true;
  $("bench").hidden = false;
  const token = ++state.loading;
  document.body.dataset.detector = "loading";
  (await live.detach())?.dispose();
  try {
    const { report, detector, variant, problem } = await runBenchmark({
      variants, engine, backend, deviceName: $("device-name").value, load: loadInWorker,
      probeUrls: page.probes,
      onProgress: (text) => { $("bench-status").textContent = text; },
    });
    enqueue(report); // first to local storage: a failed POST is retried, never lost
    showBenchResult(report, problem);
    $("bench-status").textContent = "Benchmark done. Sending the report…";
    if (token === state.loading) adopt(detector, variant); else detector.dispose();
    await retrier.now();
    $("bench-status").textContent = "Benchmark done.";
  } catch (err) {
    $("bench-status").textContent = `Benchmark failed: ${err.message}`;
    if (token === state.loading) await useVariant();
  } finally {
    button.disabled = false;
  }
}

async function refreshModels() {
  let listing;
  try {
    listing = await fetchModels();
  } catch (err) {
    setStatus(`Cannot list the models: ${err.message}`, true);
    return;
  }
  picker.update(listing, params.get("variant"));
  renderMissing(listing, $("missing"), $("missing-summary"), $("missing-list"));
  if (!listing.default) {
    document.body.dataset.detector = "none";
    setStatus("No model is exported yet (see below).", true);
  } else if (!live.detector && document.body.dataset.detector !== "loading") {
    await useVariant();
  }
}

function wire() {
  for (const id of ["quantization", "engine-select", "backend-select"]) {
    $(id).addEventListener("change", useVariant);
  }
  $("model").addEventListener("change", useVariant); // picker refills quantizations first
  $("threshold").addEventListener("input", (e) => {
    live.minScore = Number(e.target.value);
    $("threshold-value").textContent = live.minScore.toFixed(2);
    live.detectStill();
  });
  $("camera-switch").addEventListener("click", () => {
    state.facing = state.facing === "environment" ? "user" : "environment";
    startCamera();
  });
  $("camera-start").addEventListener("click", startCamera);
  $("upload").addEventListener("change", (e) => {
    const file = e.target.files?.[0];
    if (!file) return;
    if (state.stillUrl) URL.revokeObjectURL(state.stillUrl);
    state.stillUrl = URL.createObjectURL(file);
    showImage(state.stillUrl);
  });
  $("sample").append(...page.samples.map((s) => new Option(s.name, s.url)));
  $("sample").addEventListener("change", (e) => e.target.value && showImage(e.target.value));
  for (const [param, id] of [["backend", "backend-select"], ["engine", "engine-select"]]) {
    const value = params.get(param);
    if ([...$(id).options].some((o) => o.value === value)) $(id).value = value;
  }
  $("device-name").value = deviceName();
  $("device-name").addEventListener("change", (e) => rememberDeviceName(e.target.value));
  $("bench-run").addEventListener("click", benchmark);
}

wire();
live.minScore = Number($("threshold").value);
refreshModels();
startCamera();
if (pending().length) retrier.now();
