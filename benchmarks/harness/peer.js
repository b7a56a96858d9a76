// Harness of benchmarks/browser_peer.py: the SDK's browser runtime (TF.js) and
// onnxruntime-web on the same model, in one page, timed in blocks the Python side interleaves.
//
// What one timed run covers, for every "model" contender: the preprocessed float32 input
// goes in (tensor upload), the model runs, both outputs are read back on the CPU (forces
// GPU/threads to finish). "detect" contenders time the whole detect(): pixels read, the
// Pillow-exact resize, inference, readback, NMS (ORT gets the SDK's own pre/post code).
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-web";
import { load } from "@sdk/detector.js";
import { PixelReader } from "@sdk/image.js";
import { postprocess, toDetections } from "@sdk/postprocess.js";
import { toModelInput } from "@sdk/preprocess.js";
import { parseSpec } from "@sdk/spec.js";

const contenders = {};
const images = {};

async function loadImage(url) {
  if (!images[url]) {
    const img = new Image();
    img.src = url;
    await img.decode();
    images[url] = img;
  }
  return images[url];
}

/** Preprocessed model input of `imageUrl` for `spec`, computed by the SDK's own code. */
async function modelInput(imageUrl, spec) {
  const pixels = await new PixelReader().read(await loadImage(imageUrl));
  return toModelInput(pixels, spec.input).data;
}

function workersOf(name) {
  return window.workerLog.filter((w) => w.phase === name).length;
}

/** The WebGL renderer string (SwiftShader = software), or why there is none. */
function webglInfo() {
  const gl = document.createElement("canvas").getContext("webgl2");
  if (!gl) return { renderer: "no WebGL 2 context" };
  const ext = gl.getExtension("WEBGL_debug_renderer_info");
  return { renderer: gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER),
    version: gl.getParameter(gl.VERSION) };
}

async function useBackend(name) {
  if (tf.getBackend() !== name && !(await tf.setBackend(name))) {
    throw new Error(`tfjs backend ${name} did not start`);
  }
}

async function addTfjs({ name, modelUrl, backend, threads, imageUrl, detect }) {
  window.phase = name;
  // Ask for the same thread count as ORT. TF.js 4.22 reports getThreadsCount() = 1 whatever
  // is asked (tensorflow/tfjs#8513): info.threads says what it really uses.
  const threadsRequested = threads || navigator.hardwareConcurrency;
  const det = await load(modelUrl, { backend, threads: threadsRequested });
  const [h, w] = det.spec.input.size;
  const data = await modelInput(imageUrl, det.spec);
  const image = await loadImage(imageUrl);
  const infer = async () => {
    const x = tf.tensor4d(data, [1, h, w, 3]);
    const outs = tf.tidy(() => det.model.execute({ [det.io.input]: x }, det.io.outputs));
    x.dispose();
    const values = await Promise.all(outs.map((t) => t.data()));
    tf.dispose(outs);
    return values;
  };
  const run = detect ? () => det.detect(image) : infer;
  contenders[name] = { run: async () => { await useBackend(backend); return run(); },
    outputs: async () => { await useBackend(backend); return infer(); } };
  const info = { ...det.info, threadsRequested, workers: workersOf(name) };
  if (backend === "webgl") Object.assign(info, webglInfo());
  return info;
}

async function addOrt({ name, modelUrl, specUrl, threads, imageUrl, detect }) {
  window.phase = name;
  const t0 = performance.now();
  ort.env.wasm.numThreads = threads || navigator.hardwareConcurrency;
  ort.env.wasm.wasmPaths = new URL(".", import.meta.resolve("onnxruntime-web")).href;
  const spec = parseSpec(await (await fetch(specUrl)).json(), specUrl);
  const session = await ort.InferenceSession.create(modelUrl, {
    executionProviders: ["wasm"], graphOptimizationLevel: "all" });
  const loadMs = performance.now() - t0;
  const [h, w] = spec.input.size;
  const [input] = session.inputNames;
  const names = [spec.outputs.boxes, spec.outputs.scores];
  const data = await modelInput(imageUrl, spec);
  const image = await loadImage(imageUrl);
  const reader = new PixelReader();
  const infer = async (values = data) => {
    const out = await session.run({ [input]: new ort.Tensor("float32", values, [1, h, w, 3]) });
    return names.map((n) => out[n].data);
  };
  const detectOnce = async () => {
    const { data: x, geometry } = toModelInput(await reader.read(image), spec.input);
    const [boxes, scores] = await infer(x);
    const raw = postprocess(boxes, scores, spec.labels.length, spec.nms, {});
    return toDetections(raw, geometry, spec.labels);
  };
  contenders[name] = { run: detect ? detectOnce : () => infer(), outputs: () => infer() };
  const t1 = performance.now();
  await infer();
  // numThreads is reset to 1 when threads cannot start; ORT >= 1.19 ships SIMD builds only
  // and refuses to start without SIMD.
  return { backend: "wasm", threads: ort.env.wasm.numThreads, simd: true, loadMs,
    threadsRequested: threads || navigator.hardwareConcurrency,
    warmupMs: performance.now() - t1, workers: workersOf(name),
    crossOriginIsolated: Boolean(globalThis.crossOriginIsolated),
    ortVersion: ort.env.versions.web };
}

/** One block: an untimed run (backend switch, caches), then `runs` timed runs in ms. */
async function block(name, runs) {
  const { run } = contenders[name];
  await run();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await run();
    times.push(performance.now() - start);
  }
  return times;
}

/** Largest |difference| of each output of `name` from those of `reference`. */
async function compare(name, reference) {
  const [a, b] = [await contenders[name].outputs(), await contenders[reference].outputs()];
  return a.map((values, k) => values.reduce(
    (worst, v, i) => Math.max(worst, Math.abs(v - b[k][i])), 0));
}

window.peer = { addTfjs, addOrt, block, compare, webglInfo };
window.ready = true;
