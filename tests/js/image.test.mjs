// sdk/js/image.js (TensorFlow.js, cpu backend) against Pillow + sdk/preprocess.py.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as tf from "@tensorflow/tfjs";

import { toModelInput } from "../../sdk/js/image.js";
import { fit } from "../../sdk/js/preprocess.js";
import { f32, golden, u8 } from "./golden.mjs";

for (const c of golden.resize) {
  test(`model input matches Pillow: ${c.width}x${c.height} -> ${c.input.size} ${c.input.resize}`, () => {
    const before = tf.memory().numTensors;
    const pixels = tf.tensor3d(u8(c.image), [c.height, c.width, 3], "int32");
    const x = tf.tidy(() => toModelInput(pixels, fit(c.width, c.height, c.input), c.input));
    const got = x.dataSync();
    const want = f32(c.expected);
    assert.deepEqual(x.shape, [1, ...c.input.size, 3]);
    // Pillow rounds in fixed point, we in float: a pixel may differ by one level.
    const level = Math.max(...c.input.std.map((s) => 1 / s)) * 1.0001;
    let same = 0;
    for (let i = 0; i < want.length; i++) {
      assert.ok(Math.abs(got[i] - want[i]) <= level, `value ${i}: ${got[i]} vs ${want[i]}`);
      if (Math.abs(got[i] - want[i]) < 1e-6) same++;
    }
    assert.ok(same / want.length > 0.99, `only ${same}/${want.length} values identical`);
    tf.dispose([pixels, x]);
    assert.equal(tf.memory().numTensors, before);
  });
}
