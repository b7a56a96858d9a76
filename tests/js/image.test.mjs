// sdk/js/preprocess.js toModelInput against Pillow + sdk/preprocess.py: bit for bit.
import assert from "node:assert/strict";
import { test } from "node:test";

import { resizeBilinear, toModelInput } from "../../sdk/js/preprocess.js";
import { f32, golden, u8 } from "./golden.mjs";

for (const c of golden.resize.filter((r) => r.input.dtype === "float32")) {
  test(`model input equals Pillow's: ${c.width}x${c.height} -> ${c.input.size} ${c.input.resize}`,
    () => {
      const pixels = { data: u8(c.image), width: c.width, height: c.height, channels: 3 };
      const { data } = toModelInput(pixels, c.input);
      assert.deepEqual(data, f32(c.expected));
    });
}

test("RGBA input ignores alpha", () => {
  const rgba = new Uint8Array([10, 20, 30, 255, 40, 50, 60, 0]);
  assert.deepEqual(resizeBilinear(rgba, 2, 1, 4, 2, 1), new Uint8Array([10, 20, 30, 40, 50, 60]));
  assert.deepEqual(resizeBilinear(rgba, 2, 1, 4, 1, 1), new Uint8Array([25, 35, 45]));
});
