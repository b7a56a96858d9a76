// TensorFlow.js engine: TF.js graph model exports (model.json + weight shards).
//
// TF.js has one active backend per page or worker: a session switches to its own backend
// before each run. The wasm backend's thread count is capped at half the logical cores by
// TF.js itself (compiled into its wasm; no API raises it): `threads` reports what it uses.
import { importPackage, wasmFolder } from "../vendor.js";
import { bindModel } from "../model.js";

export const BACKENDS = ["webgpu", "webgl", "wasm", "cpu"];
// cpu is pure JavaScript, 10-100x slower: "auto" falls back to it only when nothing starts.
const CANDIDATES = ["webgpu", "webgl", "wasm"];

let wasmBackend = null;

/** Import the package registering backend `name` and make it the active one. */
async function activate(tf, name, options) {
  if (name === "wasm" && wasmBackend === null) {
    const wasm = await importPackage("tfjs-wasm");
    // Both must precede the backend's initialisation; threads need cross-origin isolation.
    const folder = wasmFolder(options.wasmPaths?.tfjs, "@tensorflow/tfjs-backend-wasm");
    if (folder) wasm.setWasmPaths(folder);
    if (options.threads) wasm.setThreadsCount(options.threads);
    wasmBackend = wasm;
  }
  if (name === "webgpu") {
    if (!globalThis.navigator?.gpu || !(await navigator.gpu.requestAdapter())) {
      throw new Error("WebGPU is not available in this browser (no adapter)");
    }
    await importPackage("tfjs-webgpu");
  }
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) {
    throw new Error(`TF.js backend '${name}' failed to initialise`);
  }
  await tf.ready();
}

/** Threads and SIMD of the running backend (only meaningful for wasm and cpu). */
async function capabilities(tf, name) {
  if (name === "wasm") {
    return { threads: wasmBackend.getThreadsCount(),
      simd: Boolean(await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")) };
  }
  if (name === "cpu") return { threads: 1, simd: false };
  return { threads: null, simd: null };
}

/** One loaded graph model on one backend. */
class TfjsSession {
  constructor(tf, model, io, spec, backend, caps) {
    this.tf = tf;
    this.model = model;
    this.io = io;
    this.backend = backend;
    this.threads = caps.threads;
    this.simd = caps.simd;
    this.version = tf.version.tfjs;
    this.shape = [1, ...spec.input.size, 3];
    this.timings = { inference: 0, readback: 0 };
  }

  /** @returns {Promise<Float32Array[]>} the spec's outputs in order (canonical: boxes and
   * scores). */
  async run(input) {
    const { tf } = this;
    if (tf.getBackend() !== this.backend) await tf.setBackend(this.backend);
    const t0 = performance.now();
    // execute() returns a lone tensor, not a list, for one output (yolo models).
    const outputs = [tf.tidy(() => this.model.execute(
      { [this.io.input]: tf.tensor4d(input, this.shape, "float32") }, this.io.outputs))].flat();
    const t1 = performance.now();
    // Reading the data back forces the backend (GPU or threads) to finish the work.
    const values = await Promise.all(outputs.map((t) => t.data()));
    tf.dispose(outputs);
    this.timings = { inference: t1 - t0, readback: performance.now() - t1 };
    return values;
  }

  dispose() {
    this.model.dispose();
  }
}

export const engine = {
  name: "tfjs",
  label: "TF.js",
  format: "tfjs",
  modelFile: "model.json",
  backends: BACKENDS,
  candidates: CANDIDATES,
  fallback: "cpu",

  /** The TF.js module itself (tests and tools use it for tf.memory()). */
  async module() {
    return importPackage("tfjs");
  },

  /**
   * Load a graph model on `backend`.
   * @param {{url: string, spec: object}} source the model.json URL and its parsed spec.
   */
  async open(source, backend, options) {
    if (!BACKENDS.includes(backend)) {
      throw new Error(`TF.js has no backend '${backend}' (${BACKENDS.join(", ")})`);
    }
    if (source.spec.input.dtype !== "float32") {
      throw new Error(`${source.url}: input dtype ${source.spec.input.dtype}: TF.js graph ` +
        "models take float32 input (integer inputs are for TFLite and ONNX)");
    }
    const tf = await importPackage("tfjs");
    await activate(tf, backend, options);
    const model = await tf.loadGraphModel(source.url);
    let io;
    try {
      io = bindModel(model, source.spec, source.url);
    } catch (err) {
      model.dispose();
      throw err;
    }
    return new TfjsSession(tf, model, io, source.spec, backend, await capabilities(tf, backend));
  },
};
