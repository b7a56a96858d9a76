// LiteRT.js engine (@litertjs/core): .tflite exports on XNNPACK in wasm (threads when the
// page is cross-origin isolated) or on WebGPU.
//
// LiteRT.js is loaded once per page or worker (one wasm runtime, a global in the package):
// the threaded build when isolation allows it, whatever thread count the first model asks
// for, so later models may use more threads; each model then gets its own count. It needs
// static shapes: a model whose input is [-1, H, W, 3] is refused at load with the fix.
import { kindShapes, outputNames } from "../spec.js";
import { importPackage, wasmFolder } from "../vendor.js";

export const BACKENDS = ["webgpu", "wasm"];
// The version this runtime was written and tested against (the package exports none).
export const LITERT_VERSION = "2.5.3";

let runtime = null; // Promise of {litert, threaded, relaxed}

function logLiteRt(text) {
  if (/^(INFO|WARNING|VERBOSE|DEBUG)\b/.test(text)) console.debug(`[LiteRT] ${text}`);
  else console.error(`[LiteRT] ${text}`);
}

/** Load the LiteRT.js wasm runtime once (threaded when the page may use threads). */
function loadRuntime(options) {
  runtime ??= (async () => {
    const litert = await importPackage("litert");
    const folder = wasmFolder(options.wasmPaths?.litert, "@litertjs/core", "../wasm/");
    if (!folder) throw new Error("LiteRT.js: where are its wasm files? pass wasmPaths.litert");
    const isolated = Boolean(globalThis.crossOriginIsolated);
    // Its threaded build needs relaxed SIMD; without relaxed SIMD only the compat build runs.
    const relaxed = await litert.supportsFeature("relaxedSimd");
    const threaded = isolated && relaxed && await litert.supportsFeature("threads");
    const file = threaded ? "litert_wasm_threaded_internal.js"
      : relaxed ? "litert_wasm_internal.js" : "litert_wasm_compat_internal.js";
    // The emscripten loader finds its .wasm and (threaded) starts its pthread workers from
    // its own script's URL; inside a worker that would be the worker's script instead.
    // Its runtime logs INFO/WARNING lines (accelerator registration) on stderr, which
    // emscripten prints with console.error: keep those out of the page's error console.
    globalThis.Module = { locateFile: (path) => folder + path,
      mainScriptUrlOrBlob: folder + file, printErr: logLiteRt };
    try {
      await litert.loadLiteRt(folder + file);
    } finally {
      globalThis.Module = undefined;
    }
    return { litert, threaded, relaxed };
  })();
  runtime.catch(() => { runtime = null; });
  return runtime;
}

/** Index of the tensor called `name` (signature or tensor name) among `details`. */
function findTensor(details, name, source, role) {
  const bare = name.split(":")[0];
  // The exact name first: post-processing ops name their outputs OP, OP:1, OP:2, OP:3.
  let i = details.findIndex((d) => d.name === name);
  if (i < 0) i = details.findIndex((d) => d.name === bare || d.name.split(":")[0] === bare);
  if (i < 0) {
    throw new Error(`${source}: ${role} '${name}' named in detector.json not found; the model ` +
      `has ${details.map((d) => `${d.name} [${Array.from(d.shape)}]`).join(", ")}`);
  }
  return i;
}

function checkShape(source, detail, expected) {
  const dims = Array.from(detail.shape);
  const ok = dims.length === expected.length &&
    dims.every((d, i) => expected[i] === -1 || d === expected[i]);
  if (!ok) {
    throw new Error(`${source}: tensor '${detail.name}' has shape [${dims}], detector.json ` +
      `expects [${expected.map((d) => (d === -1 ? "N" : d))}]`);
  }
}

/** One compiled .tflite model. */
class LiteRtSession {
  constructor(litert, model, io, spec, backend, threads) {
    this.litert = litert;
    this.model = model;
    this.io = io;
    this.backend = backend;
    this.threads = backend === "wasm" ? threads : null;
    this.simd = backend === "wasm" ? true : null;
    this.version = LITERT_VERSION;
    this.shape = [1, ...spec.input.size, 3];
    this.timings = { inference: 0, readback: 0 };
  }

  /** @returns {Promise<Float32Array[]>} the spec's outputs in order (copies out of the wasm
   * heap): boxes and scores for canonical models. */
  async run(input) {
    const t0 = performance.now();
    const x = new this.litert.Tensor(input, this.shape);
    let outputs;
    try {
      outputs = await this.model.run([x]);
    } finally {
      x.delete();
    }
    const t1 = performance.now();
    try {
      const values = [];
      for (const i of this.io.outputs) values.push(await outputs[i].data());
      this.timings = { inference: t1 - t0, readback: performance.now() - t1 };
      return values;
    } finally {
      for (const t of outputs) t.delete();
    }
  }

  dispose() {
    this.model.delete();
  }
}

export const engine = {
  name: "litert",
  label: "LiteRT.js",
  format: "tflite",
  modelFile: "model.tflite",
  backends: BACKENDS,
  candidates: BACKENDS,
  fallback: null,

  /**
   * Compile a .tflite model for `backend` ("wasm": XNNPACK on the CPU, "webgpu").
   * @param {{url: string, spec: object, bytes?: Uint8Array}} source
   * @param {{threads?: number, wasmPaths?: object}} options
   */
  async open(source, backend, options) {
    if (!BACKENDS.includes(backend)) {
      throw new Error(`LiteRT.js has no backend '${backend}' (${BACKENDS.join(", ")})`);
    }
    const { spec, url } = source;
    if (!["float32", "uint8"].includes(spec.input.dtype)) {
      throw new Error(`${url}: input dtype ${spec.input.dtype} is not supported by LiteRT.js ` +
        "(float32 or uint8; export int8 models with float input)");
    }
    if (backend === "webgpu" &&
        !(globalThis.navigator?.gpu && await navigator.gpu.requestAdapter())) {
      throw new Error("WebGPU is not available in this browser (no adapter)");
    }
    const { litert, threaded } = await loadRuntime(options);
    if (backend === "webgpu" && !litert.getWebGpuDevice?.()) {
      throw new Error("LiteRT.js could not create a WebGPU device");
    }
    const threads = threaded ? Math.max(1, options.threads ?? 1) : 1;
    const model = await litert.loadAndCompile(source.bytes ?? url, {
      accelerator: backend, cpuOptions: { numThreads: threads } });
    try {
      const [h, w] = spec.input.size;
      const inputs = model.getInputDetails();
      if (inputs.length !== 1) {
        throw new Error(`${url}: the model has ${inputs.length} inputs, expected one image`);
      }
      if (Array.from(inputs[0].shape).includes(-1)) {
        throw new Error(`${url}: input '${inputs[0].name}' has the dynamic shape ` +
          `[${Array.from(inputs[0].shape)}]; LiteRT.js needs the static [1, ${h}, ${w}, 3]: ` +
          "re-export it with the current sdk (sdk export --format tflite --force)");
      }
      checkShape(url, inputs[0], [1, h, w, 3]);
      if (inputs[0].dtype !== spec.input.dtype) {
        throw new Error(`${url}: input is ${inputs[0].dtype}, detector.json says ` +
          `${spec.input.dtype}`);
      }
      const details = model.getOutputDetails();
      if (spec.outputs.kind !== "canonical") {
        const outputs = outputNames(spec.outputs).map((n) => findTensor(details, n, url, "output"));
        const shapes = kindShapes(spec);
        outputs.forEach((i, k) => checkShape(url, details[i], shapes[k]));
        return new LiteRtSession(litert, model, { outputs }, spec, backend, threads);
      }
      const boxes = findTensor(details, spec.outputs.boxes, url, "output");
      const scores = findTensor(details, spec.outputs.scores, url, "output");
      checkShape(url, details[boxes], [1, -1, 4]);
      checkShape(url, details[scores], [1, details[boxes].shape[1], spec.labels.length]);
      return new LiteRtSession(litert, model, { outputs: [boxes, scores] }, spec, backend,
        threads);
    } catch (err) {
      model.delete();
      throw err;
    }
  },
};
