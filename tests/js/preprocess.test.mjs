// sdk/js/preprocess.js (geometry, box inverse, Pillow taps) against the Python reference.
import assert from "node:assert/strict";
import { test } from "node:test";

import { fit, resampleCoefficients, roundHalfEven, unletterboxBox } from "../../sdk/js/preprocess.js";
import { golden, maxAbsDiff } from "./golden.mjs";

test("roundHalfEven rounds like Python's round()", () => {
  assert.deepEqual([0.5, 1.5, 2.5, 2.4999, 2.5001, 7].map(roundHalfEven), [0, 2, 2, 2, 3, 7]);
});

for (const c of golden.letterbox) {
  test(`fit + unletterbox: ${c.input.resize} ${c.image.join("x")}`, () => {
    const g = fit(c.image[0], c.image[1], c.input);
    const { scaleX, scaleY, padX, padY } = g;
    assert.deepEqual({ scaleX, scaleY, padX, padY }, c.expected);
    const pixels = c.boxes.map((b) => unletterboxBox(b, g));
    assert.ok(maxAbsDiff(pixels.flat(), c.pixels.flat()) < 1e-3);
  });
}

test("resampling taps sum to one (fixed point) and stay inside the image", () => {
  for (const [from, to] of [[37, 16], [10, 32], [640, 96], [96, 96], [5, 1]]) {
    const { taps, start, count, weight } = resampleCoefficients(from, to);
    for (let o = 0; o < to; o++) {
      assert.ok(start[o] >= 0 && start[o] + count[o] <= from && count[o] <= taps);
      let sum = 0;
      for (let k = 0; k < count[o]; k++) sum += weight[o * taps + k];
      assert.ok(Math.abs(sum - 2 ** 22) <= taps, `${from}->${to} output ${o}: ${sum}`);
    }
  }
});
