// sdk/js/spec.js: the same checks and defaults as sdk/spec.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import { parseSpec } from "../../sdk/js/spec.js";

const minimal = { schema_version: 1, input: { size: [96, 128] }, labels: ["a", "b"] };

test("defaults are those of sdk/spec.py", () => {
  const spec = parseSpec(minimal, "d.json");
  assert.equal(spec.input.resize, "letterbox");
  assert.equal(spec.input.pad_value, 114);
  assert.deepEqual(spec.input.mean, [127.5, 127.5, 127.5]);
  assert.equal(spec.outputs.boxes, "boxes");
  assert.equal(spec.nms.pre_nms_top_k, 1000);
});

test("unsupported schema version is a clear error", () => {
  assert.throws(() => parseSpec({ ...minimal, schema_version: 2 }, "d.json"),
    /d\.json: unsupported schema_version 2/);
});

test("bad fields name the field", () => {
  assert.throws(() => parseSpec({ ...minimal, labels: [] }, "d.json"), /field 'labels'/);
  assert.throws(() => parseSpec({ ...minimal, input: { size: [96] } }, "d.json"),
    /field 'input.size'/);
  assert.throws(() => parseSpec({ ...minimal, input: { size: [9, 9], dtype: "int8" } }, "d.json"),
    /field 'input.quant_scale' and input.quant_zero_point are required for int8/);
  assert.throws(() => parseSpec({ ...minimal, input: { size: [9, 9], dtype: "float16" } },
    "d.json"), /field 'input.dtype' must be float32\|uint8\|int8/);
});

test("integer inputs (quantized TFLite and ONNX models) are accepted with their quantization", () => {
  const spec = parseSpec({ ...minimal, input: { size: [9, 9], dtype: "uint8", quant_scale: 1,
    quant_zero_point: 0 } }, "d.json");
  assert.equal(spec.input.dtype, "uint8");
});
