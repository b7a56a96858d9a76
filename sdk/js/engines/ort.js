// onnxruntime-web engine: .onnx exports on the wasm execution provider (SIMD, threads when
// the page is cross-origin isolated) or WebGPU.
//
// The wasm EP comes from "onnxruntime-web/wasm" (its 14 MB wasm); WebGPU from
// "onnxruntime-web/webgpu", imported only when WebGPU is tried and an adapter exists (its
// wasm is larger). onnxruntime-web fixes its thread count when its wasm starts, once per
// page or worker: the first session's `threads` wins, and `threads` reports what is used.
// Its default would be half the cores, so the count is always set explicitly.
import { kindShapes, outputNames } from "../spec.js";
import { importPackage, wasmFolder } from "../vendor.js";

export const BACKENDS = ["webgpu", "wasm"];
const PACKAGE = { wasm: "ort-wasm", webgpu: "ort-webgpu" };
const SPECIFIER = { wasm: "onnxruntime-web/wasm", webgpu: "onnxruntime-web/webgpu" };

const modules = {}; // backend -> Promise of the configured ort module

function ortModule(backend, options) {
  modules[backend] ??= (async () => {
    const ort = await importPackage(PACKAGE[backend]);
    const folder = wasmFolder(options.wasmPaths?.ort, SPECIFIER[backend]);
    if (folder) ort.env.wasm.wasmPaths = folder;
    // The proxy worker is off: detection already runs in the SDK's own worker when asked.
    ort.env.wasm.proxy = false;
    ort.env.wasm.numThreads = Math.max(1, options.threads ?? 1);
    ort.env.logLevel = "error";
    return ort;
  })();
  modules[backend].catch(() => { delete modules[backend]; });
  return modules[backend];
}

function shapeOf(meta) {
  return Array.isArray(meta?.shape) ? meta.shape.map((d) => (typeof d === "number" ? d : -1))
    : null;
}

function checkShape(source, name, dims, expected) {
  if (dims === null) return;
  const ok = dims.length === expected.length &&
    dims.every((d, i) => expected[i] === -1 || d === -1 || d === expected[i]);
  if (!ok) {
    throw new Error(`${source}: tensor '${name}' has shape [${dims}], detector.json expects ` +
      `[${expected.map((d) => (d === -1 ? "N" : d))}]`);
  }
}

/** The output called `name` (exactly, or without a ":0" suffix). */
function findOutput(session, name, source) {
  // The exact name first: "x:1" must not fall back to "x" when both exist.
  const found = session.outputNames.find((n) => n === name) ??
    session.outputNames.find((n) => n === name.split(":")[0]);
  if (!found) {
    throw new Error(`${source}: output '${name}' named in detector.json not found; the model ` +
      `has ${session.outputNames.join(", ")}`);
  }
  return found;
}

/** One onnxruntime-web InferenceSession. */
class OrtSession {
  constructor(ort, session, io, spec, backend) {
    this.ort = ort;
    this.session = session;
    this.io = io;
    this.backend = backend;
    this.threads = backend === "wasm" ? ort.env.wasm.numThreads : null;
    this.simd = backend === "wasm" ? true : null; // onnxruntime-web ships SIMD builds only
    this.version = ort.env.versions?.web ?? null;
    this.dtype = spec.input.dtype;
    this.shape = [1, ...spec.input.size, 3];
    this.timings = { inference: 0, readback: 0 };
  }

  /** @returns {Promise<Float32Array[]>} the spec's outputs in order, boxes and scores for
   * canonical models (outputs land on the CPU). */
  async run(input) {
    const t0 = performance.now();
    const feeds = { [this.io.input]: new this.ort.Tensor(this.dtype, input, this.shape) };
    const out = await this.session.run(feeds, this.io.outputs);
    const t1 = performance.now();
    const values = [];
    for (const name of this.io.outputs) values.push(await out[name].getData(true));
    this.timings = { inference: t1 - t0, readback: performance.now() - t1 };
    return values;
  }

  dispose() {
    this.session.release();
  }
}

export const engine = {
  name: "ort",
  label: "ORT-web",
  format: "onnx",
  modelFile: "model.onnx",
  backends: BACKENDS,
  candidates: BACKENDS,
  fallback: null,

  /**
   * Create an InferenceSession on `backend` ("wasm" or "webgpu").
   * @param {{url: string, spec: object, bytes?: Uint8Array}} source
   * @param {{threads?: number, wasmPaths?: object}} options
   */
  async open(source, backend, options) {
    if (!BACKENDS.includes(backend)) {
      throw new Error(`onnxruntime-web has no backend '${backend}' (${BACKENDS.join(", ")})`);
    }
    if (backend === "webgpu" &&
        !(globalThis.navigator?.gpu && await navigator.gpu.requestAdapter())) {
      throw new Error("WebGPU is not available in this browser (no adapter)");
    }
    const { spec, url } = source;
    const ort = await ortModule(backend, options);
    const session = await ort.InferenceSession.create(source.bytes ?? url, {
      executionProviders: [backend], graphOptimizationLevel: "all" });
    try {
      const [h, w] = spec.input.size;
      if (session.inputNames.length !== 1) {
        throw new Error(`${url}: the model has ${session.inputNames.length} inputs, expected ` +
          "one image");
      }
      const input = session.inputNames[0];
      const inMeta = session.inputMetadata?.[0];
      checkShape(url, input, shapeOf(inMeta), [1, h, w, 3]);
      if (inMeta?.type && inMeta.type !== spec.input.dtype) {
        throw new Error(`${url}: input is ${inMeta.type}, detector.json says ${spec.input.dtype}`);
      }
      const outputs = outputNames(spec.outputs).map((n) => findOutput(session, n, url));
      const meta = (name) => shapeOf(session.outputMetadata?.[session.outputNames.indexOf(name)]);
      if (spec.outputs.kind !== "canonical") {
        const shapes = kindShapes(spec);
        outputs.forEach((name, k) => checkShape(url, name, meta(name), shapes[k]));
        return new OrtSession(ort, session, { input, outputs }, spec, backend);
      }
      const boxDims = meta(outputs[0]);
      checkShape(url, outputs[0], boxDims, [-1, -1, 4]);
      checkShape(url, outputs[1], meta(outputs[1]), [-1, boxDims?.[1] ?? -1, spec.labels.length]);
      return new OrtSession(ort, session, { input, outputs }, spec, backend);
    } catch (err) {
      await session.release();
      throw err;
    }
  },
};
