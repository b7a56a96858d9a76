// sdk/js/postprocess.js against the Python reference (sdk/postprocess.py) on golden cases:
// the plain port (postprocess + toDetections) and the buffer-reusing Postprocessor.
import assert from "node:assert/strict";
import { test } from "node:test";

import { postprocess, Postprocessor, toDetections } from "../../sdk/js/postprocess.js";
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

  test(`Postprocessor matches the Python reference: ${c.name}`, () => {
    const labels = Array.from({ length: c.numClasses }, (_, i) => `c${i}`);
    const boxes = f32(c.boxes);
    const post = new Postprocessor(boxes.length / 4, labels, c.nms);
    // The identity geometry: pixel boxes = model-frame boxes.
    const geometry = { scaleX: 1, scaleY: 1, padX: 0, padY: 0, inputW: 1, inputH: 1,
      imageW: 1e9, imageH: 1e9 };
    for (let round = 0; round < 2; round++) { // twice: reused buffers give the same answer
      const found = post.run(boxes, f32(c.scores), geometry, c.overrides);
      assert.deepEqual(found.map((d) => d.classId), c.expected.classes);
      assert.deepEqual(found.map((d) => d.score), c.expected.scores);
      const xyxy = found.map((d) => [d.bbox[0], d.bbox[1], d.bbox[0] + d.bbox[2],
        d.bbox[1] + d.bbox[3]]);
      assert.ok(maxAbsDiff(xyxy.flat(), c.expected.boxes.flat().map((v) => Math.max(v, 0))) <
        1e-6);
    }
  });
}

for (const [i, c] of golden.pipeline.entries()) {
  test(`raw outputs -> pixel detections match Detector.detect (${c.input.resize} ${i})`, () => {
    const [w, h] = c.image;
    const boxes = f32(c.boxes);
    const raw = postprocess(boxes, f32(c.scores), c.labels.length, c.nms);
    const viaPost = new Postprocessor(boxes.length / 4, c.labels, c.nms)
      .run(boxes, f32(c.scores), fit(w, h, c.input));
    for (const dets of [toDetections(raw, fit(w, h, c.input), c.labels), viaPost]) {
      assert.equal(dets.length, c.expected.length);
      dets.forEach((d, k) => {
        const e = c.expected[k];
        assert.equal(d.label, e.label);
        assert.equal(d.classId, e.classId);
        assert.equal(d.score, e.score);
        // Python unletterboxes in float32, JavaScript in float64.
        assert.ok(maxAbsDiff(d.bbox, e.bbox) < 1e-3, `${d.bbox} vs ${e.bbox}`);
      });
    }
  });
}

test("empty input gives no detections", () => {
  const nms = golden.postprocess[0].nms;
  const out = postprocess(new Float32Array(0), new Float32Array(0), 3, nms);
  assert.deepEqual(out, { boxes: [], scores: [], classes: [] });
  const post = new Postprocessor(0, ["a", "b", "c"], nms);
  assert.deepEqual(post.run(new Float32Array(0), new Float32Array(0), {}), []);
});
