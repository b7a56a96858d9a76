// The standardized device benchmark in the browser (sdk/bench/protocol.py, docs/DESIGN.md
// section 6): load, first inference, warm-up and the measured loop are timed separately, each
// loop is bounded by count and time, latencies become p50/p90/p99/min/max/mean with
// FPS = 1000/p50, stages are medians, and an accuracy fingerprint on the probe images (the
// synthetic probe set of the parity gate and `sdk bench`, served as PNG) is compared with the
// fp32 reference detections the export carries (reference.json). The result is a report
// matching device_bench/schema.py (v1).
import { deviceInfo, gpuRenderer, uuid4 } from "./env.js";
import { compareDetections, fpsFromP50, median, shouldStop, summarize } from "./protocol.js";

const STAGES = ["preprocess", "inference", "readback", "postprocess"];

async function fetchJson(url) {
  const response = await fetch(url, { cache: "no-store" });
  return response.ok ? response.json() : null;
}

/** The variant's reference detections, or null and why the fingerprint is unavailable. */
async function fetchReference(variant) {
  const response = await fetch(`/api/models/${variant.name}/reference`, { cache: "no-store" });
  const body = await response.json().catch(() => null);
  if (response.ok) return { reference: body, problem: null };
  return { reference: null, problem: body?.message || `reference: HTTP ${response.status}` };
}

async function loadImage(url) {
  const img = new Image();
  img.src = url;
  await img.decode();
  return img;
}

/** Remembers whether the page was hidden at any moment between start() and stop(). */
class VisibilityWatch {
  start() {
    this.hidden = false;
    this.listener = () => this.check();
    document.addEventListener("visibilitychange", this.listener);
    this.check();
  }

  /** Also called after every run, in case an event was missed. */
  check() {
    if (document.visibilityState !== "visible") this.hidden = true;
  }

  stop() {
    this.check();
    document.removeEventListener("visibilitychange", this.listener);
    return this.hidden;
  }
}

/**
 * Let the browser run its queued tasks (paint, input, visibilitychange). On wasm a detect
 * resolves in microtasks only, so without this the page would freeze for the whole loop
 * and a hidden page would go unnoticed. A posted message is an ordinary task: unlike a
 * nested setTimeout(0) it is not clamped to 4 ms, and unlike scheduler.yield() it does not
 * jump ahead of the browser's other queued work.
 */
function yieldToBrowser() {
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = resolve;
    channel.port2.postMessage(null);
  });
}

/** Run `step(i)` until the bounds say stop; time each run (the yields are not timed). */
async function timedLoop(bounds, step, onRun) {
  const latencies = [];
  const stages = [];
  const start = performance.now();
  while (!shouldStop(bounds, latencies.length, (performance.now() - start) / 1000)) {
    const t = performance.now();
    const stageTimes = await step(latencies.length);
    latencies.push(performance.now() - t);
    if (stageTimes) stages.push(stageTimes);
    onRun(latencies.length);
    await yieldToBrowser();
  }
  return { runs: latencies.length, ms: performance.now() - start, latencies, stages };
}

/** Detections of every probe image as {box: [x1, y1, x2, y2], label, score}. */
async function detectProbes(detector, images, minScore) {
  const out = [];
  for (const img of images) {
    const dets = await detector.detect(img, { minScore });
    out.push(dets.map((d) => ({ box: [d.bbox[0], d.bbox[1], d.bbox[0] + d.bbox[2],
      d.bbox[1] + d.bbox[3]], label: d.label, score: d.score })));
  }
  return out;
}

async function accuracyCheck(detector, probes, reference, protocol) {
  if (!reference) return { probe_images: 0, matched_fraction: 0, passed: false, max_score_delta: 0 };
  const measured = await detectProbes(detector, probes, reference.score_threshold);
  const result = compareDetections(reference.probes.map((p) => p.detections), measured,
    protocol.accuracy);
  return { ...result, max_score_delta: Math.min(1, result.max_score_delta) };
}

const stageMedians = (stages) =>
  Object.fromEntries(STAGES.map((s) => [s, median(stages.map((t) => t[s] ?? 0))]));

function timingPart(detector, warm, loop, protocol) {
  const latency = summarize(loop.latencies);
  return {
    load_ms: detector.info.loadMs,
    first_inference_ms: detector.info.warmupMs,
    warmup_runs: warm.runs,
    warmup_ms: warm.ms,
    runs: loop.runs,
    duration_ms: loop.ms,
    latency_ms: latency,
    stages_ms: stageMedians(loop.stages),
    fps: fpsFromP50(latency.p50),
    timed: protocol.default_timed,
  };
}

/** The `runtime` part: which engine ran it (tfjs, litert, ort), its version and backend. */
function runtimePart(info) {
  return {
    name: info.engine,
    version: info.version ?? null,
    backend: info.backend,
    threads: Number.isInteger(info.threads) ? info.threads : null,
    simd: typeof info.simd === "boolean" ? info.simd : null,
    secure_context: window.isSecureContext,
    cross_origin_isolated: window.crossOriginIsolated,
    gpu_renderer: gpuRenderer(),
  };
}

function modelPart(variant, detector) {
  return {
    name: variant.model, format: variant.format, quantization: variant.quantization,
    sha256: variant.sha256, input_size: detector.spec.input.size,
    // The variant's mAP from its detector.json (/api/models): the frontier ranks by it.
    map: variant.map ?? null, map_basis: variant.map_basis ?? null,
  };
}

/**
 * Run the protocol on one variant (or the fastest of several: engine "auto") and build the
 * report.
 * @param {object} options {variants (from /api/models: one, or one per format of the same
 *   model and quantization), engine, backend, deviceName, load(urls, opts), probeUrls (the
 *   probe images, also timed when the export has no reference), onProgress(text)}
 * @returns {Promise<{report: object, detector: object, variant: object,
 *   problem: string|null}>} the detector stays loaded for reuse; `variant` is the one it
 *   runs; `problem` says why there was no accuracy fingerprint.
 */
export async function runBenchmark({ variants, engine = "auto", backend, deviceName, load,
  probeUrls, onProgress }) {
  const progress = onProgress ?? (() => {});
  progress("Fetching the protocol…");
  const protocol = await fetchJson("/api/v1/protocol");
  if (!protocol) throw new Error("the server did not send the benchmark protocol");
  const watch = new VisibilityWatch();
  watch.start();
  let detector;
  try {
    progress(`Loading ${variants.map((v) => v.name).join(", ")} (${engine}, ${backend})…`);
    detector = await load(variants.map((v) => v.url), { engine, backend });
    const variant = variants.find((v) => v.format === detector.info.format) ?? variants[0];
    progress("Fetching the reference detections…");
    const { reference, problem } = await fetchReference(variant);
    // Real images, not zeros: the NMS cost depends on how many boxes survive.
    const urls = reference ? reference.probes.map((p) => p.url) : probeUrls;
    const probes = await Promise.all(urls.map(loadImage));
    const step = async (i) => {
      await detector.detect(probes[i % probes.length]);
      return detector.lastTimings;
    };
    const onRun = (phase) => (runs) => {
      watch.check();
      if (runs % 10 === 0) progress(`${phase}… ${runs} runs`);
    };
    progress("Warming up…");
    const warm = await timedLoop(protocol.warmup, step, onRun("Warming up"));
    progress("Measuring…");
    const loop = await timedLoop(protocol.measure, step, onRun("Measuring"));
    progress(reference ? "Checking accuracy against the fp32 reference…" : problem);
    const accuracy = await accuracyCheck(detector, probes, reference, protocol);
    const report = buildReport({ protocol, variant, detector, warm, loop, accuracy, deviceName,
      engine, backend, hidden: watch.stop(), problem });
    return { report, detector, variant, problem };
  } catch (err) {
    watch.stop();
    detector?.dispose();
    throw err;
  }
}

function buildReport({ protocol, variant, detector, warm, loop, accuracy, deviceName, engine,
  backend, hidden, problem }) {
  const { info } = detector;
  const auto = [engine === "auto" ? "engine" : "", backend === "auto" ? "backend" : ""]
    .filter(Boolean).join(" and ");
  const notes = [auto ? `${auto} chosen by auto: ${info.engine}/${info.backend}` : "",
    problem ?? ""].filter(Boolean).join("; ").slice(0, 2000);
  return {
    report_id: uuid4(),
    protocol_version: protocol.version,
    created_at: new Date().toISOString(),
    device: deviceInfo(deviceName),
    runtime: runtimePart(detector.info),
    model: modelPart(variant, detector),
    timing: timingPart(detector, warm, loop, protocol),
    accuracy,
    page: { hidden_during_run: hidden },
    notes: notes || null,
  };
}
