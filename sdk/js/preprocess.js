// Image geometry and resampling weights: a port of the Python reference sdk/preprocess.py
// (fit, unletterbox_boxes) and of the Pillow BILINEAR resize it uses, so the browser feeds
// the model the same pixels as Python/LiteRT. Pure functions driven by the detector.json
// "input" object ({size: [h, w], resize, pad_value, mean, std, channel_order, dtype}).

/** Python's round(): half to even (Math.round rounds half up). */
export function roundHalfEven(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (d !== 0.5) return d < 0.5 ? f : f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Where an image of this size sits in the model input (port of preprocess.fit).
 * @returns {{scaleX: number, scaleY: number, padX: number, padY: number,
 *   inputW: number, inputH: number, imageW: number, imageH: number,
 *   resizedW: number, resizedH: number}}
 */
export function fit(imageW, imageH, input) {
  const [inH, inW] = input.size;
  if (input.resize === "stretch") {
    return { scaleX: inW / imageW, scaleY: inH / imageH, padX: 0, padY: 0, inputW: inW,
      inputH: inH, imageW, imageH, resizedW: inW, resizedH: inH };
  }
  const scale = Math.min(inW / imageW, inH / imageH);
  const resizedW = roundHalfEven(imageW * scale);
  const resizedH = roundHalfEven(imageH * scale);
  return { scaleX: scale, scaleY: scale, padX: Math.floor((inW - resizedW) / 2),
    padY: Math.floor((inH - resizedH) / 2), inputW: inW, inputH: inH, imageW, imageH,
    resizedW, resizedH };
}

/** Normalized xyxy in the model frame -> clipped pixel xyxy in the original image. */
export function unletterboxBox(box, g) {
  const clip = (v, hi) => Math.min(Math.max(v, 0), hi);
  return [
    clip((box[0] * g.inputW - g.padX) / g.scaleX, g.imageW),
    clip((box[1] * g.inputH - g.padY) / g.scaleY, g.imageH),
    clip((box[2] * g.inputW - g.padX) / g.scaleX, g.imageW),
    clip((box[3] * g.inputH - g.padY) / g.scaleY, g.imageH),
  ];
}

/** Pillow's bilinear (triangle) filter, support 1. */
function triangle(x) {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
}

/**
 * Resampling taps of Pillow's BILINEAR resize along one axis (port of precompute_coeffs in
 * Pillow's Resample.c). Downscaling widens the filter by the scale (antialiasing), which
 * tf.image.resizeBilinear does not do: that is why the browser cannot use it directly.
 * @returns {{taps: number, index: Int32Array, weight: Float32Array}} [outSize * taps] each;
 *   unused taps have weight 0 and a valid index.
 */
export function resampleCoefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // bilinear support is 1, widened when downscaling
  const taps = Math.ceil(support) * 2 + 1;
  const index = new Int32Array(outSize * taps);
  const weight = new Float32Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const w = [];
    const ss = 1 / filterScale;
    for (let x = lo; x < hi; x++) w.push(triangle((x - center + 0.5) * ss));
    const total = w.reduce((a, b) => a + b, 0);
    for (let k = 0; k < taps; k++) {
      index[o * taps + k] = Math.min(lo + k, inSize - 1);
      weight[o * taps + k] = k < w.length && total !== 0 ? w[k] / total : 0;
    }
  }
  return { taps, index, weight };
}
