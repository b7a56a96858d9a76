// The browser runtime: load(exports) -> {detect, dispose, info}, driven only by the
// detector.json beside each model (the twin of sdk/runtime/detector.py), on three engines:
// TF.js (model.json), LiteRT.js (.tflite) and onnxruntime-web (.onnx).
//
// The engines' npm packages are imported on first use by bare specifier: map them in the
// page's import map (see README "Browser") or let a bundler resolve them. loadInWorker()
// (worker-client.js) runs the same detector in a Web Worker.
import { ENGINES, engineForFile, engineForFormat, engineNamed } from "./engines/index.js";
import { PixelReader } from "./image.js";
import { OutputPostprocessor } from "./postprocess.js";
import { inputArrayType, Preprocessor } from "./preprocess.js";
import { parseSpec } from "./spec.js";

export { ENGINES } from "./engines/index.js";

const TRIAL_RUNS = 5; // timed runs per engine/backend when choosing, after one warm-up run
// Pause between two trials, after the previous session was freed: starting a multi-threaded
// wasm model while another one's threads are still winding down can hang the page.
const TRIAL_PAUSE_MS = 50;
const EXPORT_NAME = /(?:^|\/)[a-z0-9][a-z0-9_.+-]*-(tfjs|tflite|onnx)-[a-z0-9][a-z0-9_.+]*\/?$/;

/** Threads for wasm engines when not told: the cores, at most 4 (more rarely helps one
 * image at a time, and on phones the extra cores are the slow ones). */
export function defaultThreads() {
  const cores = globalThis.navigator?.hardwareConcurrency || 1;
  return Math.max(1, Math.min(cores, 4));
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function fetchSpec(url) {
  let response;
  try {
    response = await fetch(url);
  } catch (err) {
    throw new Error(`${url}: ${err.message}`);
  }
  if (!response.ok) {
    throw new Error(`${url}: HTTP ${response.status} (every export has a detector.json ` +
      "beside the model; for your own model write one, see the README)");
  }
  return parseSpec(await response.json(), url);
}

/** Does `url` answer (HEAD)? */
async function exists(url) {
  try {
    return (await fetch(url, { method: "HEAD" })).ok;
  } catch {
    return false;
  }
}

/**
 * One export: its folder, model URL, parsed spec and the engine that runs it.
 * @param {string} url folder, model file (model.json, .tflite, .onnx) or detector.json URL.
 */
export async function resolveSource(url, options = {}) {
  const text = String(url);
  const byFile = engineForFile(text);
  const isFile = byFile !== undefined || text.endsWith("detector.json");
  const base = isFile ? text.slice(0, text.lastIndexOf("/") + 1)
    : (text.endsWith("/") ? text : `${text}/`);
  const spec = await fetchSpec(`${base}detector.json`);
  let engine = byFile;
  if (!engine && options.format) engine = engineForFormat(options.format);
  if (!engine) engine = engineForFormat(spec.provenance?.format);
  if (!engine) engine = engineForFormat(base.match(EXPORT_NAME)?.[1]);
  if (!engine) {
    for (const candidate of ENGINES) {
      if (await exists(base + candidate.modelFile)) {
        engine = candidate;
        break;
      }
    }
  }
  if (!engine) {
    throw new Error(`${base}: no model found (model.json, model.tflite or model.onnx beside ` +
      "detector.json)");
  }
  const modelUrl = byFile ? text : base + engine.modelFile;
  return { url: modelUrl, base, spec, engine, format: engine.format };
}

/** The (source, backend) pairs to try for the requested engine and backend. */
function plan(sources, requested) {
  const trials = [];
  const skipped = {};
  for (const source of sources) {
    const { engine } = source;
    if (requested.engine !== "auto" && engine.name !== requested.engine) {
      skipped[`${engine.name}`] = { error: `not requested (engine: ${requested.engine})` };
      continue;
    }
    const backends = requested.backend === "auto"
      ? (requested.candidates ?? engine.candidates).filter((b) => engine.backends.includes(b))
      : [requested.backend];
    for (const backend of backends) {
      if (!engine.backends.includes(backend)) {
        skipped[`${engine.name}/${backend}`] = { error: `${engine.label} has no backend ` +
          `'${backend}' (${engine.backends.join(", ")})` };
      } else {
        trials.push({ source, backend });
      }
    }
  }
  return { trials, skipped };
}

/** Fetch the model's bytes once (LiteRT.js and onnxruntime-web take bytes; TF.js fetches
 * its shards itself), so trials and the final load do not download it again. */
async function modelBytes(source) {
  if (source.engine.name === "tfjs" || source.bytes) return;
  const response = await fetch(source.url);
  if (!response.ok) throw new Error(`${source.url}: HTTP ${response.status}`);
  source.bytes = new Uint8Array(await response.arrayBuffer());
}

function zerosFor(spec) {
  const [h, w] = spec.input.size;
  return new (inputArrayType(spec.input.dtype))(h * w * 3);
}

async function timeIt(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

/** Open one candidate, time a warm-up and TRIAL_RUNS runs, free it. */
async function trial({ source, backend }, options) {
  await modelBytes(source);
  const session = await source.engine.open(source, backend, options);
  try {
    const x = zerosFor(source.spec);
    const warmupMs = await timeIt(() => session.run(x));
    const runs = [];
    for (let i = 0; i < TRIAL_RUNS; i++) runs.push(await timeIt(() => session.run(x)));
    return { warmupMs, medianMs: median(runs), threads: session.threads };
  } finally {
    session.dispose();
    await pause(TRIAL_PAUSE_MS);
  }
}

/** Open the chosen candidate and run it once (compilation, weight upload). */
async function openWarm({ source, backend }, options) {
  const start = performance.now();
  await modelBytes(source);
  const session = await source.engine.open(source, backend, options);
  const openMs = performance.now() - start;
  try {
    const warmupMs = await timeIt(() => session.run(zerosFor(source.spec)));
    return { session, openMs, warmupMs };
  } catch (err) {
    session.dispose();
    throw err;
  }
}

const key = ({ source, backend }) => `${source.engine.name}/${backend}`;

/**
 * The requested engine/backend, or for "auto" the fastest that starts, opened and warm.
 * @returns {Promise<{session, source, openMs: number, warmupMs: number,
 *   trials: object|null}>}
 */
async function choose(sources, options) {
  const { trials: planned, skipped } = plan(sources, options);
  if (planned.length === 0) {
    throw new Error(`nothing to run: ${Object.entries(skipped).map(([k, v]) =>
      `${k}: ${v.error}`).join("; ") || "no export given"}`);
  }
  if (planned.length === 1 && options.backend !== "auto") {
    return { ...await openWarm(planned[0], options), source: planned[0].source, trials: null };
  }
  const trials = { ...skipped };
  const timed = [];
  for (const candidate of planned) {
    try {
      trials[key(candidate)] = await trial(candidate, options);
      timed.push(candidate);
    } catch (err) {
      trials[key(candidate)] = { error: String(err?.message ?? err) };
    }
  }
  if (timed.length === 0) {
    // Nothing started: the slow but always present fallback (TF.js cpu) if it applies.
    for (const source of sources) {
      const fallback = source.engine.fallback;
      if (!fallback || (options.engine !== "auto" && source.engine.name !== options.engine)) {
        continue;
      }
      const candidate = { source, backend: fallback };
      trials[key(candidate)] = await trial(candidate, options);
      timed.push(candidate);
      break;
    }
  }
  if (timed.length === 0) {
    throw new Error(`no engine/backend could start: ${Object.entries(trials).map(([k, v]) =>
      `${k}: ${v.error}`).join("; ")}`);
  }
  const best = timed.reduce((a, b) => (trials[key(b)].medianMs < trials[key(a)].medianMs ? b : a));
  trials[key(best)].chosen = true;
  return { ...await openWarm(best, options), source: best.source, trials };
}

/** Normalized load options. */
function requestOf(options) {
  return {
    engine: options.engine ?? "auto",
    backend: options.backend ?? "auto",
    candidates: options.candidates,
    threads: options.threads ?? defaultThreads(),
    wasmPaths: { ...(options.wasmPath ? { tfjs: options.wasmPath } : {}), ...options.wasmPaths },
    format: options.format,
  };
}

/** A loaded detector: detect() on images, frames and pixels. */
export class Detector {
  constructor(session, source, info) {
    this.session = session;
    this.spec = source.spec;
    this.source = source;
    this.info = info;
    this.lastTimings = null;
    this.reader = new PixelReader();
    this.pre = new Preprocessor(source.spec.input);
    this.post = new OutputPostprocessor(source.spec);
  }

  /**
   * Run the model alone on a prepared input ([1, H, W, 3] in the spec's dtype): upload,
   * inference, readback. Benchmarks use it to time the engine without pre/post-processing.
   * @returns {Promise<Float32Array[]>} the outputs named by detector.json, in its order:
   *   canonical boxes [N * 4] and scores [N * C] (see spec.js outputNames for other kinds).
   */
  runModel(input) {
    return this.session.run(input);
  }

  /**
   * Detect objects in an image, video, canvas, ImageBitmap, VideoFrame, ImageData, TF.js
   * tensor [H, W, 3|4] or {data, width, height, channels} pixels.
   * @param {object} [options] {minScore, maxDetections, iouThreshold}; defaults from the spec.
   * @returns {Promise<{bbox: number[], label: string, score: number, classId: number}[]>}
   *   bbox is [x, y, width, height] in pixels of the input, best first.
   */
  async detect(input, options = {}) {
    const t0 = performance.now();
    const pixels = await this.reader.read(input);
    return this.detectPixels(pixels, options, t0);
  }

  /** detect() from pixels already read (the worker reads them itself). */
  async detectPixels(pixels, options = {}, t0 = performance.now()) {
    const { data, geometry } = this.pre.run(pixels);
    const t1 = performance.now();
    const outputs = await this.session.run(data);
    const t2 = performance.now();
    const detections = this.post.run(outputs, geometry, {
      scoreThreshold: options.minScore, iouThreshold: options.iouThreshold,
      maxDetections: options.maxDetections,
    });
    const { readback } = this.session.timings; // the engine's split of its run
    this.lastTimings = { preprocess: t1 - t0, inference: t2 - t1 - readback, readback,
      postprocess: performance.now() - t2 };
    return detections;
  }

  /** Free the model (and its engine memory). */
  dispose() {
    this.session.dispose();
  }
}

/**
 * Load a detector from one export, or the fastest of several exports of one model.
 * @param {string|URL|Array<string|URL>} exports export folder URL(s) (with detector.json and
 *   model.json / model.tflite / model.onnx), or model file URL(s).
 * @param {{engine?: string, backend?: string, candidates?: string[], threads?: number,
 *   wasmPaths?: {tfjs?: string, litert?: string, ort?: string}, wasmPath?: string,
 *   format?: string}} [options]
 *   engine: "auto" (default: every engine that has an export here) or "tfjs", "litert",
 *   "ort"; backend: "auto" (default: time each backend of each engine that starts, keep the
 *   fastest) or "wasm", "webgpu", "webgl" (TF.js), "cpu" (TF.js); candidates: the backends
 *   "auto" tries; threads: wasm threads (default: cores, at most 4); wasmPaths: folders of
 *   the engines' .wasm files (default: beside each package's module).
 * @returns {Promise<Detector>}
 */
export async function load(exports, options = {}) {
  const t0 = performance.now();
  const request = requestOf(options);
  if (request.engine !== "auto") engineNamed(request.engine); // a clear error for typos
  const urls = Array.isArray(exports) ? exports : [exports];
  const sources = await Promise.all(urls.map((u) => resolveSource(u, request)));
  const t1 = performance.now();
  const chosen = await choose(sources, request);
  const chooseMs = performance.now() - t1 - chosen.openMs - chosen.warmupMs;
  const { session, source } = chosen;
  const info = {
    engine: source.engine.name, engineLabel: source.engine.label, version: session.version,
    backend: session.backend, threads: session.threads, simd: session.simd,
    threadsRequested: request.threads, format: source.format, modelUrl: source.url,
    // load: detector.json and the chosen model (fetch, compile); warm-up: its first run;
    // trials ("auto"): the time spent timing the candidates, in neither.
    loadMs: t1 - t0 + chosen.openMs, warmupMs: chosen.warmupMs,
    chooseMs: chosen.trials ? chooseMs : 0, trials: chosen.trials,
    crossOriginIsolated: Boolean(globalThis.crossOriginIsolated),
  };
  for (const s of sources) delete s.bytes;
  return new Detector(session, source, info);
}

export { loadInWorker, WorkerDetector } from "./worker-client.js";
