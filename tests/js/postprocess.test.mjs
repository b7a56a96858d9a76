// sdk/js/postprocess.js against the Python reference (sdk/postprocess.py) on golden cases.
import assert from "node:assert/strict";
import { test } from "node:test";

import { postprocess, toDetections } from "../../sdk/js/postprocess.js";
import { fit } from "../../sdk/js/preprocess.js";
import { f32, golden, maxAbsDiff } from "./golden.mjs";

for (const c of golden.postprocess) {
  test(`postprocess matches the Python reference: ${c.name}`, () => {
    const out = postprocess(f32(c.boxes), f32(c.scores), c.numClasses, c.nms, c.overrides);
    assert.deepEqual(out.classes, c.expected.classes);
    assert.deepEqual(out.scores, c.expected.scores); // same float32 values, exactly
    assert.equal(out.boxes.length, c.expected.boxes.length);
    assert.ok(maxAbsDiff(out.boxes.flat(), c.expected.boxes.flat()) === 0);
  });
}

for (const [i, c] of golden.pipeline.entries()) {
  test(`raw outputs -> pixel detections match Detector.detect (${c.input.resize} ${i})`, () => {
    const [w, h] = c.image;
    const raw = postprocess(f32(c.boxes), f32(c.scores), c.labels.length, c.nms);
    const dets = toDetections(raw, fit(w, h, c.input), c.labels);
    assert.equal(dets.length, c.expected.length);
    dets.forEach((d, k) => {
      const e = c.expected[k];
      assert.equal(d.label, e.label);
      assert.equal(d.classId, e.classId);
      assert.equal(d.score, e.score);
      // Python unletterboxes in float32, JavaScript in float64.
      assert.ok(maxAbsDiff(d.bbox, e.bbox) < 1e-3, `${d.bbox} vs ${e.bbox}`);
    });
  });
}

test("empty input gives no detections", () => {
  const nms = golden.postprocess[0].nms;
  const out = postprocess(new Float32Array(0), new Float32Array(0), 3, nms);
  assert.deepEqual(out, { boxes: [], scores: [], classes: [] });
});
