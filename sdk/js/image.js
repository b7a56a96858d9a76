// Pixels -> model input tensor with TensorFlow.js: a port of resize_to_input + normalize in
// the Python reference sdk/preprocess.py. The resize reproduces Pillow's BILINEAR (with its
// antialiasing and uint8 rounding after each pass) from the taps in preprocess.js, as a few
// gathers per axis, so it runs on every backend (webgl, wasm, webgpu, cpu).
import * as tf from "@tensorflow/tfjs";

import { resampleCoefficients } from "./preprocess.js";

/** Resample a float [H, W, 3] tensor along `axis` (0: rows, 1: columns) to `outSize`. */
function resampleAxis(x, axis, outSize) {
  const inSize = x.shape[axis];
  if (inSize === outSize) return x;
  const { taps, index, weight } = resampleCoefficients(inSize, outSize);
  const wShape = axis === 0 ? [outSize, 1, 1] : [outSize, 1];
  let acc = null;
  for (let k = 0; k < taps; k++) {
    const idx = new Int32Array(outSize);
    const w = new Float32Array(outSize);
    for (let o = 0; o < outSize; o++) {
      idx[o] = index[o * taps + k];
      w[o] = weight[o * taps + k];
    }
    const term = tf.mul(tf.gather(x, tf.tensor1d(idx, "int32"), axis), tf.tensor(w, wShape));
    acc = acc === null ? term : tf.add(acc, term);
  }
  // Pillow stores each pass as uint8, rounding half up (tf.round would round half to even).
  return tf.clipByValue(tf.floor(tf.add(acc, 0.5)), 0, 255);
}

/**
 * [H, W, 3] int32/float pixels -> [1, inH, inW, 3] float32 model input (call inside tf.tidy).
 * @param {tf.Tensor3D} pixels RGB pixels of the original image.
 * @param {object} geometry result of preprocess.fit for this image.
 * @param {object} input detector.json "input" section.
 */
export function toModelInput(pixels, geometry, input) {
  const g = geometry;
  // Pillow resizes horizontally first, then vertically.
  const wide = resampleAxis(tf.cast(pixels, "float32"), 1, g.resizedW);
  const resized = resampleAxis(wide, 0, g.resizedH);
  const padded = tf.pad(resized, [[g.padY, g.inputH - g.resizedH - g.padY],
    [g.padX, g.inputW - g.resizedW - g.padX], [0, 0]], input.pad_value ?? 114);
  const ordered = input.channel_order === "BGR" ? tf.reverse(padded, 2) : padded;
  const normalized = tf.div(tf.sub(ordered, tf.tensor1d(input.mean)), tf.tensor1d(input.std));
  return tf.expandDims(normalized, 0);
}
