// Image geometry and preprocessing: a port of the Python reference sdk/preprocess.py (fit,
// resize_to_input, normalize, unletterbox_boxes) including the Pillow BILINEAR resize it
// uses, bit for bit, so the browser feeds the model the same numbers as Python/LiteRT.
// Pure functions on typed arrays driven by the detector.json "input" object
// ({size: [h, w], resize, pad_value, mean, std, channel_order, dtype, quant_scale,
// quant_zero_point}); no engine code. `toModelInput` is the plain port; `Preprocessor` computes
// the same numbers per frame without allocating (buffers, taps and padding reused).

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

const PRECISION_BITS = 22; // Pillow's fixed point for 8-bit images: 32 - 8 - 2

/**
 * Taps of Pillow's BILINEAR resize along one axis, as Pillow's fixed-point integers (port
 * of precompute_coeffs + normalize_coeffs_8bpc in Pillow's Resample.c). Downscaling widens
 * the filter by the scale (antialiasing), which tf.image.resizeBilinear does not do.
 * @returns {{taps: number, start: Int32Array, count: Int32Array, weight: Int32Array}}
 *   for output o: input pixels start[o] .. start[o] + count[o] - 1, weights at o * taps.
 */
export function resampleCoefficients(inSize, outSize) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // bilinear support is 1, widened when downscaling
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weight = new Int32Array(outSize * taps);
  const ss = 1 / filterScale;
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const n = Math.min(Math.trunc(center + support + 0.5), inSize) - lo;
    const w = [];
    for (let x = 0; x < n; x++) w.push(triangle((x + lo - center + 0.5) * ss));
    const total = w.reduce((a, b) => a + b, 0);
    for (let x = 0; x < n; x++) {
      const k = total !== 0 ? w[x] / total : w[x];
      weight[o * taps + x] = Math.trunc(k < 0 ? -0.5 + k * 2 ** PRECISION_BITS
        : 0.5 + k * 2 ** PRECISION_BITS);
    }
    start[o] = lo;
    count[o] = n;
  }
  return { taps, start, count, weight };
}

/** Pillow's clip8: fixed-point accumulator -> 0..255. */
function clip8(acc) {
  if (acc >= 2 ** (PRECISION_BITS + 8)) return 255;
  return acc <= 0 ? 0 : acc >> PRECISION_BITS;
}

/** One Pillow pass along rows (horizontal) or columns, from `channels` to 3 channels. */
function resamplePass(src, width, height, channels, outSize, horizontal) {
  const { taps, start, count, weight } = resampleCoefficients(horizontal ? width : height,
    outSize);
  const outW = horizontal ? outSize : width;
  const outH = horizontal ? height : outSize;
  const out = new Uint8Array(outW * outH * 3);
  const half = 2 ** (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y;
      let r = half;
      let g = half;
      let b = half;
      for (let t = 0; t < count[o]; t++) {
        const i = ((horizontal ? y * width + start[o] + t : (start[o] + t) * width + x)) * channels;
        const k = weight[o * taps + t];
        r += src[i] * k;
        g += src[i + 1] * k;
        b += src[i + 2] * k;
      }
      const j = (y * outW + x) * 3;
      out[j] = clip8(r);
      out[j + 1] = clip8(g);
      out[j + 2] = clip8(b);
    }
  }
  return out;
}

/**
 * Whether Pillow resizes vertically first: since Pillow 13 it does when the height shrinks
 * by more than twice as many pixels as the width (Resample.c; python-pillow/Pillow#9549),
 * found to hold for every size tried. The two orders round differently (one level on a few
 * pixels); Pillow 12 and older always go horizontally first.
 */
export function verticalFirst(width, height, outW, outH) {
  return outH < height && height - outH > 2 * (width - outW);
}

/**
 * Pillow's Image.resize(..., BILINEAR) of 8-bit pixels, bit for bit: a horizontal and a
 * vertical pass in Pillow's order (verticalFirst), each stored as uint8 (Resample.c).
 * @param {Uint8Array|Uint8ClampedArray|Int32Array} src pixels, `channels` (3 or 4) per pixel;
 *   a 4th channel (alpha) is ignored.
 * @returns {Uint8Array} outW * outH * 3 RGB.
 */
export function resizeBilinear(src, width, height, channels, outW, outH) {
  let data = src;
  let ch = channels;
  const both = outW !== width && outH !== height;
  if (both && verticalFirst(width, height, outW, outH)) {
    data = resamplePass(data, width, height, ch, outH, false);
    return resamplePass(data, width, outH, 3, outW, true);
  }
  if (outW !== width) {
    data = resamplePass(data, width, height, ch, outW, true);
    ch = 3;
  }
  if (outH !== height) {
    data = resamplePass(data, outW, height, ch, outH, false);
    ch = 3;
  }
  if (ch === 3 && data !== src) return data;
  const rgb = new Uint8Array(outW * outH * 3); // no resize needed: drop alpha / copy
  for (let i = 0, j = 0; j < rgb.length; i += ch, j += 3) {
    rgb[j] = data[i];
    rgb[j + 1] = data[i + 1];
    rgb[j + 2] = data[i + 2];
  }
  return rgb;
}

/** The typed array class holding a model input of this detector.json dtype. */
export function inputArrayType(dtype) {
  const type = { float32: Float32Array, uint8: Uint8Array, int8: Int8Array }[dtype];
  if (!type) throw new Error(`unsupported input dtype '${dtype}' (float32, uint8, int8)`);
  return type;
}

/**
 * The model-input value of each 8-bit pixel value per channel: (v - mean) / std in float32,
 * then quantized for integer inputs as sdk/preprocess.py normalize() does (divide by the
 * scale, add the zero point in float32, round half to even, clip). Index: channel * 256 + v,
 * channels in model order (BGR models read the pixel's blue value for channel 0).
 * @returns {Float32Array|Uint8Array|Int8Array} 768 values.
 */
export function normalizationTable(input) {
  const Type = inputArrayType(input.dtype);
  const table = new Type(3 * 256);
  const mean = input.mean.map(Math.fround);
  const std = input.std.map(Math.fround);
  const [lo, hi] = Type === Uint8Array ? [0, 255] : [-128, 127];
  const scale = Math.fround(input.quant_scale ?? 1);
  const zero = input.quant_zero_point ?? 0;
  for (let c = 0; c < 3; c++) {
    for (let v = 0; v < 256; v++) {
      const x = Math.fround(Math.fround(v - mean[c]) / std[c]);
      table[c * 256 + v] = Type === Float32Array ? x
        : Math.min(Math.max(roundHalfEven(Math.fround(Math.fround(x / scale) + zero)), lo), hi);
    }
  }
  return table;
}

/**
 * Pixels of the original image -> the model input as a flat [1, H, W, 3] Float32Array:
 * resize, letterbox padding, channel order and (x - mean) / std in float32, exactly as
 * sdk/preprocess.py preprocess() (float32 models only: TF.js graph models take floats).
 * @param {{data: ArrayLike<number>, width: number, height: number, channels: number}} pixels
 * @param {object} input detector.json "input" section.
 * @returns {{data: Float32Array, geometry: object}}
 */
export function toModelInput(pixels, input) {
  const g = fit(pixels.width, pixels.height, input);
  const resized = resizeBilinear(pixels.data, pixels.width, pixels.height, pixels.channels,
    g.resizedW, g.resizedH);
  const data = new Float32Array(g.inputW * g.inputH * 3);
  const order = input.channel_order === "BGR" ? [2, 1, 0] : [0, 1, 2];
  const mean = input.mean.map(Math.fround);
  const std = input.std.map(Math.fround);
  const pad = order.map((c, k) => Math.fround(input.pad_value - mean[k]) / std[k]);
  for (let y = 0; y < g.inputH; y++) {
    for (let x = 0; x < g.inputW; x++) {
      const j = (y * g.inputW + x) * 3;
      const ry = y - g.padY;
      const rx = x - g.padX;
      const inside = ry >= 0 && ry < g.resizedH && rx >= 0 && rx < g.resizedW;
      for (let k = 0; k < 3; k++) {
        // Float32Array stores round the float64 result: float32 arithmetic, like numpy.
        data[j + k] = inside
          ? Math.fround(resized[(ry * g.resizedW + rx) * 3 + order[k]] - mean[k]) / std[k]
          : pad[k];
      }
    }
  }
  return { data, geometry: g };
}

/**
 * The model input of one frame, computed without allocating: the taps of both resize
 * passes, the intermediate and resized pixels and the padded output are kept while the
 * frame size stays the same, the padding (constant for a size) is written once, and
 * normalization is a table lookup. Produces exactly what toModelInput produces (tested
 * against the same golden data).
 */
export class Preprocessor {
  /** @param {object} input detector.json "input" section (parsed by spec.js). */
  constructor(input) {
    this.input = input;
    this.table = normalizationTable(input);
    this.order = input.channel_order === "BGR" ? [2, 1, 0] : [0, 1, 2];
    this.key = "";
    const [h, w] = input.size;
    this.output = new (inputArrayType(input.dtype))(h * w * 3);
  }

  /** Recompute geometry, taps, buffers and padding for a new frame size. */
  prepare(width, height, channels) {
    const g = fit(width, height, this.input);
    const { resizedW: outW, resizedH: outH } = g;
    this.geometry = g;
    const horizontal = outW !== width;
    const vertical = outH !== height;
    this.vFirst = horizontal && vertical && verticalFirst(width, height, outW, outH);
    this.hTaps = horizontal ? resampleCoefficients(width, outW) : null;
    this.vTaps = vertical ? resampleCoefficients(height, outH) : null;
    // The first pass's result (3 channels), then the resized pixels.
    const mid = this.vFirst ? width * outH : outW * height;
    this.mid = horizontal && vertical ? new Uint8Array(mid * 3) : null;
    this.resized = horizontal || vertical ? new Uint8Array(outW * outH * 3) : null;
    const { table, output, order } = this;
    const pad = this.input.pad_value;
    const padValues = order.map((c, k) => table[k * 256 + pad]);
    for (let j = 0; j < output.length; j += 3) {
      output[j] = padValues[0];
      output[j + 1] = padValues[1];
      output[j + 2] = padValues[2];
    }
    this.key = `${width}x${height}x${channels}`;
  }

  /**
   * @param {{data: ArrayLike<number>, width: number, height: number, channels: number}} pixels
   *   RGB or RGBA (alpha ignored) 8-bit pixels.
   * @returns {{data: Float32Array|Uint8Array|Int8Array, geometry: object}} `data` is this
   *   preprocessor's own buffer: valid until the next call.
   */
  run(pixels) {
    const { width, height, channels, data } = pixels;
    if (this.key !== `${width}x${height}x${channels}`) this.prepare(width, height, channels);
    const { resizedW: outW, resizedH: outH } = this.geometry;
    const { hTaps, vTaps, mid, resized } = this;
    if (hTaps && vTaps && this.vFirst) {
      verticalInto(data, width, channels, vTaps, outH, mid);
      horizontalInto(mid, width, outH, 3, hTaps, resized, outW);
    } else if (hTaps && vTaps) {
      horizontalInto(data, width, height, channels, hTaps, mid, outW);
      verticalInto(mid, outW, 3, vTaps, outH, resized);
    } else if (hTaps) {
      horizontalInto(data, width, height, channels, hTaps, resized, outW);
    } else if (vTaps) {
      verticalInto(data, width, channels, vTaps, outH, resized);
    }
    this.emit(resized ?? data, resized ? 3 : channels);
    return { data: this.output, geometry: this.geometry };
  }

  /** Normalize the resized pixels into the letterboxed output. */
  emit(src, ch) {
    const g = this.geometry;
    const { table, output } = this;
    const [o0, o1, o2] = this.order;
    const outW = this.input.size[1];
    for (let y = 0; y < g.resizedH; y++) {
      let i = y * g.resizedW * ch;
      let j = (((g.padY + y) * outW) + g.padX) * 3;
      for (let x = 0; x < g.resizedW; x++, i += ch, j += 3) {
        output[j] = table[src[i + o0]];
        output[j + 1] = table[256 + src[i + o1]];
        output[j + 2] = table[512 + src[i + o2]];
      }
    }
  }
}

/** Pillow's horizontal pass from `channels` (3 or 4) to 3 channels into `out`. */
function horizontalInto(src, width, height, channels, axis, out, outW) {
  const { taps, start, count, weight } = axis;
  const half = 2 ** (PRECISION_BITS - 1);
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    let j = y * outW * 3;
    for (let x = 0; x < outW; x++, j += 3) {
      let r = half;
      let g = half;
      let b = half;
      let i = row + start[x] * channels;
      const w0 = x * taps;
      for (let t = 0; t < count[x]; t++, i += channels) {
        const k = weight[w0 + t];
        r += src[i] * k;
        g += src[i + 1] * k;
        b += src[i + 2] * k;
      }
      out[j] = clip8(r);
      out[j + 1] = clip8(g);
      out[j + 2] = clip8(b);
    }
  }
}

/** Pillow's vertical pass over `width` columns of `channels` to 3 channels into `out`. */
function verticalInto(src, width, channels, axis, outH, out) {
  const { taps, start, count, weight } = axis;
  const half = 2 ** (PRECISION_BITS - 1);
  const stride = width * channels;
  for (let y = 0; y < outH; y++) {
    const w0 = y * taps;
    const first = start[y] * stride;
    const n = count[y];
    let j = y * width * 3;
    for (let x = 0; x < width; x++, j += 3) {
      let r = half;
      let g = half;
      let b = half;
      let i = first + x * channels;
      for (let t = 0; t < n; t++, i += stride) {
        const k = weight[w0 + t];
        r += src[i] * k;
        g += src[i + 1] * k;
        b += src[i + 2] * k;
      }
      out[j] = clip8(r);
      out[j + 1] = clip8(g);
      out[j + 2] = clip8(b);
    }
  }
}
