// The browser runtime: load(modelUrl) -> {detect, dispose, info}, driven only by the
// detector.json beside the TF.js graph model (the twin of sdk/runtime/detector.py).
//
// The page must declare an import map for "@tensorflow/tfjs" (and "-core", the same file),
// "@tensorflow/tfjs-backend-wasm" / "-webgpu", and the Node built-ins the wasm module names
// mapped to node-shim.js: see README "Browser runtime".
import * as tf from "@tensorflow/tfjs";

import { activate, chooseBackend } from "./backends.js";
import { PixelReader } from "./image.js";
import { bindModel } from "./model.js";
import { postprocess, toDetections } from "./postprocess.js";
import { toModelInput } from "./preprocess.js";
import { parseSpec } from "./spec.js";

/** Folder URL (ending in "/") and model.json URL from a folder or model.json URL. */
function resolveUrls(modelUrl) {
  const url = String(modelUrl);
  if (url.endsWith(".json")) {
    return { base: url.slice(0, url.lastIndexOf("/") + 1), modelJson: url };
  }
  const base = url.endsWith("/") ? url : `${url}/`;
  return { base, modelJson: `${base}model.json` };
}

async function fetchSpec(url) {
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`${url}: HTTP ${response.status} (every export has a detector.json ` +
      "beside model.json; for your own model write one, see the README)");
  }
  return parseSpec(await response.json(), url);
}

/** Model outputs for one input tensor: [boxes, scores] (the caller disposes them). */
function execute(model, io, x) {
  return tf.tidy(() => model.execute({ [io.input]: x }, io.outputs));
}

class Detector {
  constructor(model, spec, io, info) {
    this.model = model;
    this.spec = spec;
    this.io = io;
    this.info = info;
    this.lastTimings = null;
    this.reader = new PixelReader();
  }

  /**
   * Detect objects in an image, video frame, canvas, ImageData or tf.Tensor3D.
   * @param {object} [options] {minScore, maxDetections, iouThreshold}; defaults from the spec.
   * @returns {Promise<{bbox: number[], label: string, score: number, classId: number}[]>}
   *   bbox is [x, y, width, height] in pixels of the input, best first.
   */
  async detect(input, options = {}) {
    const t0 = performance.now();
    const [h, w] = this.spec.input.size;
    const { data, geometry } = toModelInput(await this.reader.read(input), this.spec.input);
    const x = tf.tensor4d(data, [1, h, w, 3]);
    const t1 = performance.now();
    const outputs = execute(this.model, this.io, x);
    x.dispose();
    const t2 = performance.now();
    // Reading the data back forces the backend (GPU or threads) to finish the work.
    const [boxes, scores] = await Promise.all(outputs.map((t) => t.data()));
    tf.dispose(outputs);
    const t3 = performance.now();
    const raw = postprocess(boxes, scores, this.spec.labels.length, this.spec.nms, {
      scoreThreshold: options.minScore, iouThreshold: options.iouThreshold,
      maxDetections: options.maxDetections,
    });
    const detections = toDetections(raw, geometry, this.spec.labels);
    this.lastTimings = { preprocess: t1 - t0, inference: t2 - t1, readback: t3 - t2,
      postprocess: performance.now() - t3 };
    return detections;
  }

  /** Free the model's weights. */
  dispose() {
    this.model.dispose();
  }
}

/**
 * Load a TF.js graph model and its detector.json.
 * @param {string} modelUrl folder URL (with model.json and detector.json) or model.json URL.
 * @param {{backend?: string, candidates?: string[], wasmPath?: string, threads?: number}}
 *   [options] backend: "auto" (default: time each available backend, keep the fastest),
 *   "webgl", "wasm", "webgpu" or "cpu"; candidates: the backends "auto" tries (default
 *   webgpu, webgl, wasm); wasmPath: folder of the .wasm files (default: beside the wasm
 *   backend module); threads: wasm thread count (default: tfjs picks from the cores).
 */
export async function load(modelUrl, options = {}) {
  const t0 = performance.now();
  const { base, modelJson } = resolveUrls(modelUrl);
  const spec = await fetchSpec(`${base}detector.json`);
  // Weights are uploaded to the active backend: start on cpu (always there) when the choice
  // is still open; tensors move to the chosen backend on first use.
  const requested = options.backend ?? "auto";
  await activate(requested === "auto" ? "cpu" : requested, options);
  const model = await tf.loadGraphModel(modelJson);
  const io = bindModel(model, spec, modelJson);
  const loadMs = performance.now() - t0;
  const [h, w] = spec.input.size;
  const infer = async () => {
    const zeros = tf.zeros([1, h, w, 3]);
    const outputs = execute(model, io, zeros);
    await Promise.all(outputs.map((t) => t.data()));
    tf.dispose([zeros, ...outputs]);
  };
  const chosen = await chooseBackend(requested, infer, options);
  return new Detector(model, spec, io, {
    ...chosen, loadMs, crossOriginIsolated: Boolean(globalThis.crossOriginIsolated),
    tfjsVersion: tf.version.tfjs,
  });
}
