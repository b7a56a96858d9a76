// sdk/js/preprocess.js toModelInput and Preprocessor against Pillow + sdk/preprocess.py:
// bit for bit.
import assert from "node:assert/strict";
import { test } from "node:test";

import { normalizationTable, Preprocessor, resizeBilinear, toModelInput } from "../../sdk/js/preprocess.js";
import { f32, golden, u8 } from "./golden.mjs";

/** The golden model input in its dtype. */
function expectedInput(c) {
  if (c.input.dtype === "uint8") return u8(c.expected);
  if (c.input.dtype === "int8") return new Int8Array(u8(c.expected).buffer);
  return f32(c.expected);
}

const name = (c) => `${c.width}x${c.height} -> ${c.input.size} ${c.input.resize} ${c.input.dtype}`;

for (const c of golden.resize.filter((r) => r.input.dtype === "float32")) {
  test(`toModelInput equals Pillow's: ${name(c)}`, () => {
    const pixels = { data: u8(c.image), width: c.width, height: c.height, channels: 3 };
    const { data } = toModelInput(pixels, c.input);
    assert.deepEqual(data, f32(c.expected));
  });
}

for (const c of golden.resize) {
  test(`Preprocessor equals Pillow + normalize: ${name(c)}`, () => {
    const rgb = u8(c.image);
    const rgba = new Uint8Array(c.width * c.height * 4);
    for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
      rgba.set(rgb.subarray(i, i + 3), j);
      rgba[j + 3] = 255;
    }
    const pre = new Preprocessor(c.input);
    for (const pixels of [{ data: rgb, channels: 3 }, { data: rgba, channels: 4 }]) {
      const { data } = pre.run({ ...pixels, width: c.width, height: c.height });
      assert.deepEqual(data, expectedInput(c));
    }
  });
}

test("Preprocessor reuses its buffers and keeps the padding across frame sizes", () => {
  const c = golden.resize.find((r) => r.input.resize === "letterbox" && r.input.dtype === "float32");
  const pre = new Preprocessor(c.input);
  const pixels = { data: u8(c.image), width: c.width, height: c.height, channels: 3 };
  const first = pre.run(pixels).data;
  // Another size in between (other geometry, other padding), then the first size again.
  pre.run({ data: new Uint8Array(7 * 90 * 3).fill(200), width: 7, height: 90, channels: 3 });
  const again = pre.run(pixels).data;
  assert.equal(again, first); // the same buffer: no allocation per frame
  assert.deepEqual(again, f32(c.expected));
});

test("normalizationTable quantizes like numpy (round half to even, clip)", () => {
  const input = { dtype: "int8", mean: [0, 0, 0], std: [1, 1, 1], quant_scale: 2,
    quant_zero_point: -128 };
  const table = normalizationTable(input);
  assert.equal(table[1], -128); // 1 / 2 - 128 = -127.5 -> -128 (half to even)
  assert.equal(table[3], -126); // 3 / 2 - 128 = -126.5 -> -126
  assert.equal(table[255], 0); // 127.5 - 128 = -0.5 -> -0
  assert.throws(() => normalizationTable({ ...input, dtype: "float16" }), /unsupported input dtype/);
});

test("RGBA input ignores alpha", () => {
  const rgba = new Uint8Array([10, 20, 30, 255, 40, 50, 60, 0]);
  assert.deepEqual(resizeBilinear(rgba, 2, 1, 4, 2, 1), new Uint8Array([10, 20, 30, 40, 50, 60]));
  assert.deepEqual(resizeBilinear(rgba, 2, 1, 4, 1, 1), new Uint8Array([25, 35, 45]));
});
