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
