// The output kinds of detector.json in the browser runtime (sdk/js/postprocess.js and
// spec.js) against the Python reference (sdk/output_kinds.py, sdk.pipeline.outputs_to_pixels)
// on the golden cases of tests/js/make_golden.py: same detections from the same raw arrays.
import assert from "node:assert/strict";
import { test } from "node:test";

import { detectionsToRaw, OutputPostprocessor, yoloToCanonical } from "../../sdk/js/postprocess.js";
import { fit } from "../../sdk/js/preprocess.js";
import { outputNames, parseSpec } from "../../sdk/js/spec.js";
import { f32, golden, maxAbsDiff } from "./golden.mjs";

for (const c of golden.kinds) {
  test(`${c.name}: the browser gives the Python detections`, () => {
    const spec = parseSpec(c.spec, c.name);
    const outputs = c.outputs.map(f32);
    const geometry = fit(c.image[0], c.image[1], spec.input);
    const post = new OutputPostprocessor(spec);
    for (let round = 0; round < 2; round++) { // twice: reused buffers give the same answer
      const found = post.run(outputs, geometry, c.overrides);
      assert.equal(found.length, c.expected.length);
      found.forEach((d, k) => {
        const e = c.expected[k];
        assert.equal(d.label, e.label);
        assert.equal(d.classId, e.classId);
        assert.equal(d.score, e.score); // the same float32, exactly
        // Python unletterboxes in float32, JavaScript in float64.
        assert.ok(maxAbsDiff(d.bbox, e.bbox) < 1e-3, `${d.bbox} vs ${e.bbox}`);
      });
    }
  });

  test(`${c.name}: model-frame decoding is bit-exact`, () => {
    const spec = parseSpec(c.spec, c.name);
    const outputs = c.outputs.map(f32);
    if (c.canonical) {
      const { boxes, scores } = yoloToCanonical(outputs[0], spec.outputs, spec.labels.length,
        spec.input.size);
      assert.deepEqual(boxes, f32(c.canonical.boxes));
      assert.deepEqual(scores, f32(c.canonical.scores));
    } else {
      const o = c.overrides;
      const raw = detectionsToRaw(...outputs, spec.outputs, spec.labels.length,
        o.scoreThreshold ?? spec.nms.score_threshold, o.maxDetections ?? spec.nms.max_detections);
      assert.deepEqual(raw, c.raw);
    }
  });
}

const base = { schema_version: 1, input: { size: [96, 128] }, labels: ["a", "b"] };
const detections = { kind: "detections", locations: "loc", classes: "cls", scores: "sc",
  num_detections: "num" };

test("outputs.kind defaults to canonical; names come in the engines' order", () => {
  const spec = parseSpec(base, "d.json");
  assert.equal(spec.outputs.kind, "canonical");
  assert.deepEqual(outputNames(spec.outputs), ["boxes", "scores"]);
  assert.deepEqual(outputNames(parseSpec({ ...base, outputs: detections }, "d.json").outputs),
    ["loc", "cls", "sc", "num"]);
  const yolo = parseSpec({ ...base, outputs: { kind: "yolo", predictions: "output0",
    box_units: "pixels" } }, "d.json");
  assert.deepEqual(outputNames(yolo.outputs), ["output0"]);
  assert.equal(yolo.outputs.layout, "features_first");
});

test("bad outputs name the field (as sdk/spec.py)", () => {
  const bad = (outputs) => () => parseSpec({ ...base, outputs }, "d.json");
  assert.throws(bad({ kind: "ssd" }), /d\.json: field 'outputs\.kind' must be one of/);
  assert.throws(bad({ ...detections, num_detections: undefined }),
    /field 'outputs\.num_detections' must be a non-empty tensor name/);
  const { num_detections: _, ...three } = detections;
  assert.throws(bad(three), /field 'outputs\.num_detections' is required when outputs\.kind is 'detections'/);
  assert.throws(bad({ kind: "yolo", predictions: "p" }), /field 'outputs\.box_units' is required/);
  assert.throws(bad({ kind: "yolo", predictions: "p", box_units: "pixels", layout: "nchw" }),
    /field 'outputs\.layout' must be/);
  assert.throws(bad({ ...detections, label_offset: -1 }), /field 'outputs\.label_offset'/);
  assert.throws(bad({ ...detections, predictions: "p" }),
    /field 'outputs' has keys \["predictions"\] that kind 'detections' does not use/);
});

test("the README's detector.json examples of each kind parse in the browser too", async () => {
  const { readFileSync } = await import("node:fs");
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const start = readme.indexOf("### Bring your own detector");
  const section = readme.slice(start, readme.indexOf("\n### ", start + 1));
  const kinds = [...section.matchAll(/```json\n([\s\S]*?)```/g)]
    .map((m) => parseSpec(JSON.parse(m[1]), "README.md").outputs.kind);
  assert.deepEqual(kinds, ["canonical", "detections", "yolo"]);
});
