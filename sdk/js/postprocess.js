// Post-processing: threshold, class-aware greedy NMS, top-k.
// A port of the Python reference sdk/postprocess.py: same ordering rules, same float
// semantics (scores compared in float32, IoU in float64), checked against the same golden
// JSON (tests/js/make_golden.py). Pure functions over typed arrays, no TensorFlow.js.
//
// `nms` is the detector.json "nms" object as is: {iou_threshold, score_threshold,
// max_detections, class_agnostic, pre_nms_top_k}.
import { unletterboxBox } from "./preprocess.js";

/**
 * Indices (anchor * C + class) of entries above threshold, best first, ties by index.
 * @param {Float32Array} scores [N * C] activated scores.
 * @param {number} threshold strict lower bound (compared in float32, like numpy).
 * @param {number} topK keep the best topK (<= 0: no cap).
 * @returns {number[]}
 */
export function candidates(scores, threshold, topK) {
  const thr = Math.fround(threshold);
  const idx = [];
  for (let i = 0; i < scores.length; i++) if (scores[i] > thr) idx.push(i);
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  if (topK > 0 && idx.length > topK) idx.length = topK;
  return idx;
}

/** Area of box i of a flat [N * 4] xyxy array, never negative. */
function area(b, i) {
  return Math.max(b[4 * i + 2] - b[4 * i], 0) * Math.max(b[4 * i + 3] - b[4 * i + 1], 0);
}

/** IoU of boxes i and j of a flat [N * 4] xyxy array (same expression as the Python). */
export function iou(b, i, j) {
  const w = Math.min(b[4 * i + 2], b[4 * j + 2]) - Math.max(b[4 * i], b[4 * j]);
  const h = Math.min(b[4 * i + 3], b[4 * j + 3]) - Math.max(b[4 * i + 1], b[4 * j + 1]);
  const inter = Math.max(w, 0) * Math.max(h, 0);
  return inter / Math.max(area(b, i) + area(b, j) - inter, 1e-12);
}

/**
 * Greedy NMS over candidates already sorted best first.
 * @param {Float32Array} boxes [N * 4] normalized xyxy of all anchors.
 * @param {number[]} anchors anchor index of each candidate.
 * @param {number[]|null} classes class of each candidate, or null for class-agnostic.
 * @returns {number[]} positions (into `anchors`) of the kept candidates, in order.
 */
export function greedyNms(boxes, anchors, classes, iouThreshold, maxOut) {
  const kept = [];
  for (let j = 0; j < anchors.length && kept.length < maxOut; j++) {
    const suppressed = kept.some((i) =>
      (classes === null || classes[i] === classes[j]) &&
      iou(boxes, anchors[i], anchors[j]) > iouThreshold);
    if (!suppressed) kept.push(j);
  }
  return kept;
}

/**
 * Canonical outputs of one image -> detections in the model frame, best first.
 * @param {Float32Array} boxes [N * 4] normalized xyxy.
 * @param {Float32Array} scores [N * C] activated.
 * @param {number} numClasses C.
 * @param {object} nms detector.json "nms" section.
 * @param {{scoreThreshold?: number, iouThreshold?: number, maxDetections?: number}} [overrides]
 * @returns {{boxes: number[][], scores: number[], classes: number[]}}
 */
export function postprocess(boxes, scores, numClasses, nms, overrides = {}) {
  const thr = overrides.scoreThreshold ?? nms.score_threshold;
  const iouThr = overrides.iouThreshold ?? nms.iou_threshold;
  const maxDet = overrides.maxDetections ?? nms.max_detections;
  const flat = candidates(scores, thr, nms.pre_nms_top_k ?? 1000);
  const anchors = flat.map((k) => Math.floor(k / numClasses));
  const classes = flat.map((k) => k % numClasses);
  const kept = greedyNms(boxes, anchors, nms.class_agnostic ? null : classes, iouThr, maxDet);
  return {
    boxes: kept.map((k) => Array.from(boxes.subarray(4 * anchors[k], 4 * anchors[k] + 4))),
    scores: kept.map((k) => scores[flat[k]]),
    classes: kept.map((k) => classes[k]),
  };
}

/**
 * Model-frame detections -> the public result: [x, y, w, h] boxes in original-image pixels
 * (the letterbox inverse of sdk/preprocess.py unletterbox_boxes) with labels.
 * @param {{boxes: number[][], scores: number[], classes: number[]}} raw postprocess() result.
 * @param {object} geometry preprocess.fit() of the original image.
 * @param {string[]} labels detector.json labels.
 */
export function toDetections(raw, geometry, labels) {
  return raw.boxes.map((box, i) => {
    const [x1, y1, x2, y2] = unletterboxBox(box, geometry);
    return { bbox: [x1, y1, x2 - x1, y2 - y1], label: labels[raw.classes[i]],
      score: raw.scores[i], classId: raw.classes[i] };
  });
}

/**
 * postprocess() + toDetections() for one detector, reusing its buffers from frame to frame
 * (candidate indices, sort order, kept positions): same results, no per-frame allocation
 * except the returned detections.
 */
export class Postprocessor {
  /**
   * @param {number} numAnchors N.
   * @param {string[]} labels detector.json labels (C = labels.length).
   * @param {object} nms detector.json "nms" section.
   */
  constructor(numAnchors, labels, nms) {
    this.labels = labels;
    this.numClasses = labels.length;
    this.nms = nms;
    this.flat = new Int32Array(numAnchors * labels.length);
    this.kept = new Int32Array(Math.max(nms.max_detections, 1));
  }

  /**
   * @param {Float32Array} boxes [N * 4] normalized xyxy.
   * @param {Float32Array} scores [N * C] activated.
   * @param {object} geometry preprocess.fit() of the frame.
   * @param {{scoreThreshold?: number, iouThreshold?: number, maxDetections?: number}} [options]
   * @returns {{bbox: number[], label: string, score: number, classId: number}[]}
   */
  run(boxes, scores, geometry, options = {}) {
    const { nms, numClasses } = this;
    const thr = Math.fround(options.scoreThreshold ?? nms.score_threshold);
    const iouThr = options.iouThreshold ?? nms.iou_threshold;
    const maxDet = options.maxDetections ?? nms.max_detections;
    if (this.flat.length < scores.length) this.flat = new Int32Array(scores.length);
    if (this.kept.length < maxDet) this.kept = new Int32Array(maxDet);
    let n = 0;
    const flat = this.flat;
    for (let i = 0; i < scores.length; i++) if (scores[i] > thr) flat[n++] = i;
    const order = flat.subarray(0, n);
    order.sort((a, b) => scores[b] - scores[a] || a - b);
    const topK = nms.pre_nms_top_k ?? 1000;
    if (topK > 0 && n > topK) n = topK;
    const agnostic = nms.class_agnostic;
    const kept = this.kept;
    let k = 0;
    for (let j = 0; j < n && k < maxDet; j++) {
      const aj = Math.floor(flat[j] / numClasses);
      const cj = flat[j] % numClasses;
      let suppressed = false;
      for (let m = 0; m < k && !suppressed; m++) {
        const fi = flat[kept[m]];
        suppressed = (agnostic || fi % numClasses === cj) &&
          iou(boxes, Math.floor(fi / numClasses), aj) > iouThr;
      }
      if (!suppressed) kept[k++] = j;
    }
    const out = new Array(k);
    for (let m = 0; m < k; m++) {
      const f = flat[kept[m]];
      const a = Math.floor(f / numClasses);
      const c = f % numClasses;
      const [x1, y1, x2, y2] = unletterboxBox(boxes.subarray(4 * a, 4 * a + 4), geometry);
      out[m] = { bbox: [x1, y1, x2 - x1, y2 - y1], label: this.labels[c], score: scores[f],
        classId: c };
    }
    return out;
  }
}

// ---- output kinds (a port of sdk/output_kinds.py) -------------------------------------------

/**
 * One image's YOLO output -> canonical boxes and scores (float32 step by step, as numpy).
 * @param {Float32Array} pred [(4 + C) * N] ("features_first") or [N * (4 + C)] ("anchors_first").
 * @param {object} outputs detector.json "outputs" (layout, box_units).
 * @param {number} numClasses C.
 * @param {number[]} inputSize detector.json input.size [height, width].
 * @returns {{boxes: Float32Array, scores: Float32Array}} [N * 4] xyxy normalized, [N * C].
 */
export function yoloToCanonical(pred, outputs, numClasses, inputSize) {
  const f = 4 + numClasses;
  if (pred.length % f !== 0) {
    throw new Error(`yolo output has ${pred.length} values, not a multiple of 4 + ${numClasses} ` +
      "labels");
  }
  const n = pred.length / f;
  const first = outputs.layout !== "anchors_first";
  const at = first ? (a, k) => pred[k * n + a] : (a, k) => pred[a * f + k];
  const pixels = outputs.box_units === "pixels";
  const [h, w] = inputSize;
  const boxes = new Float32Array(n * 4);
  const scores = new Float32Array(n * numClasses);
  const fr = Math.fround;
  for (let a = 0; a < n; a++) {
    const cx = at(a, 0);
    const cy = at(a, 1);
    const hw = fr(at(a, 2) * 0.5);
    const hh = fr(at(a, 3) * 0.5);
    const box = [fr(cx - hw), fr(cy - hh), fr(cx + hw), fr(cy + hh)];
    if (pixels) for (let k = 0; k < 4; k++) box[k] = fr(box[k] / (k % 2 ? h : w));
    boxes.set(box, 4 * a);
    for (let c = 0; c < numClasses; c++) scores[a * numClasses + c] = at(a, 4 + c);
  }
  return { boxes, scores };
}

/**
 * One image's post-NMS outputs (TFLite_Detection_PostProcess) -> detections best first:
 * label offset, score threshold (strict, float32) and maxDetections only.
 * @returns {{boxes: number[][], scores: number[], classes: number[]}} model-frame xyxy.
 */
export function detectionsToRaw(locations, classes, scores, numDetections, outputs, numClasses,
  scoreThreshold, maxDetections) {
  const n = Math.min(Math.trunc(numDetections[0]), locations.length / 4);
  const thr = Math.fround(scoreThreshold);
  const keep = [];
  const ids = [];
  for (let i = 0; i < n; i++) {
    // Round half up, never truncate 2.9999 to 2 (ids arrive as floats).
    const id = Math.floor(classes[i] + 0.5) - (outputs.label_offset ?? 0);
    ids.push(id);
    if (id >= 0 && id < numClasses && scores[i] > thr) keep.push(i);
  }
  keep.sort((a, b) => scores[b] - scores[a] || a - b);
  if (keep.length > Math.max(maxDetections, 0)) keep.length = Math.max(maxDetections, 0);
  return {
    boxes: keep.map((i) => [locations[4 * i + 1], locations[4 * i], locations[4 * i + 3],
      locations[4 * i + 2]]),
    scores: keep.map((i) => scores[i]),
    classes: keep.map((i) => ids[i]),
  };
}

/**
 * Any output kind -> public detections, reusing a Postprocessor for canonical and yolo.
 * The browser twin of sdk.pipeline.outputs_to_pixels.
 */
export class OutputPostprocessor {
  /** @param {object} spec parsed detector.json (spec.js parseSpec). */
  constructor(spec) {
    this.spec = spec;
    this.post = null; // sized on the first outputs
  }

  /**
   * @param {Float32Array[]} outputs the engine's outputs in spec order (spec.js outputNames).
   * @param {object} geometry preprocess.fit() of the frame.
   * @param {{scoreThreshold?: number, iouThreshold?: number, maxDetections?: number}} [options]
   */
  run(outputs, geometry, options = {}) {
    const { spec } = this;
    const kind = spec.outputs.kind ?? "canonical";
    if (kind === "detections") {
      const raw = detectionsToRaw(...outputs, spec.outputs, spec.labels.length,
        options.scoreThreshold ?? spec.nms.score_threshold,
        options.maxDetections ?? spec.nms.max_detections);
      return toDetections(raw, geometry, spec.labels);
    }
    let [boxes, scores] = outputs;
    if (kind === "yolo") {
      ({ boxes, scores } = yoloToCanonical(outputs[0], spec.outputs, spec.labels.length,
        spec.input.size));
    }
    this.post ??= new Postprocessor(boxes.length / 4, spec.labels, spec.nms);
    return this.post.run(boxes, scores, geometry, options);
  }
}
