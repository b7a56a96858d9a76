// TensorFlow.js backend selection: explicit ("webgl", "wasm", "webgpu", "cpu") or "auto",
// which times a few inferences on every backend this browser can start and keeps the
// fastest. wasm and webgpu are imported on demand through the page's import map.
import * as tf from "@tensorflow/tfjs";

export const BACKENDS = ["webgpu", "webgl", "wasm", "cpu"];
// cpu is pure JavaScript, 10-100x slower: auto falls back to it only when nothing else starts.
const AUTO_CANDIDATES = ["webgpu", "webgl", "wasm"];
const AUTO_TIMED_RUNS = 3;

let wasmModule = null;

/** The folder of the wasm binaries: next to the backend's module in the import map. */
function defaultWasmPath() {
  return new URL(".", import.meta.resolve("@tensorflow/tfjs-backend-wasm")).href;
}

/** Import the package that registers `name` (webgl and cpu ship with @tensorflow/tfjs). */
async function register(name, options) {
  if (name === "wasm" && wasmModule === null) {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // Must precede the backend's initialisation; threads need crossOriginIsolated.
    wasm.setWasmPaths(options.wasmPath ?? defaultWasmPath());
    if (options.threads) wasm.setThreadsCount(options.threads);
    wasmModule = wasm;
  }
  if (name === "webgpu") {
    if (!globalThis.navigator?.gpu) throw new Error("WebGPU is not available in this browser");
    await import("@tensorflow/tfjs-backend-webgpu");
  }
}

/** What the running backend actually uses (threads and SIMD only apply to wasm and cpu). */
async function capabilities(name) {
  if (name === "wasm") {
    return { threads: wasmModule.getThreadsCount(),
      simd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) };
  }
  if (name === "cpu") return { threads: 1, simd: false };
  return { threads: null, simd: null };
}

/**
 * Make `name` the active backend.
 * @returns {Promise<{threads: number|null, simd: boolean|null}>}
 */
export async function activate(name, options = {}) {
  if (!BACKENDS.includes(name)) {
    throw new Error(`unknown backend '${name}': use auto or one of ${BACKENDS.join(", ")}`);
  }
  await register(name, options);
  if (!(await tf.setBackend(name))) throw new Error(`backend '${name}' failed to initialise`);
  await tf.ready();
  return capabilities(name);
}

/** Milliseconds taken by the async function `fn`. */
export async function timeIt(fn) {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** First run (compile, upload) and median of the next runs of `infer` on `name`. */
async function trial(name, infer, options) {
  await activate(name, options);
  const warmupMs = await timeIt(infer);
  const runs = [];
  for (let i = 0; i < AUTO_TIMED_RUNS; i++) runs.push(await timeIt(infer));
  return { warmupMs, medianMs: median(runs) };
}

/**
 * Activate the requested backend, or for "auto" the fastest that starts, and warm it up.
 * @param {string} requested "auto" or a backend name.
 * @param {() => Promise<void>} infer one full inference with readback.
 * @returns {Promise<{backend: string, threads: number|null, simd: boolean|null,
 *   warmupMs: number, trials: object|null}>}
 */
export async function chooseBackend(requested, infer, options = {}) {
  if (requested !== "auto") {
    const caps = await activate(requested, options);
    return { backend: requested, ...caps, warmupMs: await timeIt(infer), trials: null };
  }
  const trials = {};
  for (const name of options.candidates ?? AUTO_CANDIDATES) {
    try {
      trials[name] = await trial(name, infer, options);
    } catch (err) {
      trials[name] = { error: String(err?.message ?? err) };
    }
  }
  const ok = Object.entries(trials).filter(([, t]) => t.error === undefined);
  if (ok.length === 0) {
    trials.cpu = await trial("cpu", infer, options);
    ok.push(["cpu", trials.cpu]);
  }
  const [best, result] = ok.reduce((a, b) => (b[1].medianMs < a[1].medianMs ? b : a));
  const caps = await activate(best, options);
  await infer(); // the weights move back to this backend: keep that out of the first detect
  return { backend: best, ...caps, warmupMs: result.warmupMs, trials };
}
