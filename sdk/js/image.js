// Browser image sources -> RGB(A) pixels on the CPU, the input of the Preprocessor.
// Reading pixels back is what tf.browser.fromPixels does for the wasm and cpu backends too;
// doing it here lets the exact Pillow-compatible resize run for every engine.

/** True for a TF.js tensor (duck-typed: the runtime does not import TF.js for this). */
function isTensor(input) {
  return input !== null && typeof input === "object" && Array.isArray(input.shape) &&
    typeof input.dataSync === "function";
}

/** Width and height of an image source as drawn (natural size, not CSS size). */
function sourceSize(input) {
  if (input.tagName === "VIDEO") {
    if (input.readyState < 2) throw new Error("the video has no frame yet: wait for 'loadeddata'");
    return [input.videoWidth, input.videoHeight];
  }
  if (input.tagName === "IMG") return [input.naturalWidth, input.naturalHeight];
  if (typeof input.displayWidth === "number") return [input.displayWidth, input.displayHeight];
  return [input.width, input.height]; // canvas, OffscreenCanvas, ImageBitmap
}

/** A reusable 2D context to read pixels from (one per reader: video frames reuse it). */
function makeContext(width, height) {
  const canvas = typeof OffscreenCanvas !== "undefined"
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement("canvas"), { width, height });
  return canvas.getContext("2d", { willReadFrequently: true });
}

/**
 * Reads pixels from images, videos, canvases, bitmaps, video frames, ImageData, TF.js
 * tensors [H, W, 3|4], or {data, width, height, channels} objects (passed through).
 */
export class PixelReader {
  constructor() {
    this.context = null;
  }

  /**
   * @returns {Promise<{data: ArrayLike<number>, width: number, height: number,
   *   channels: number}>}
   */
  async read(input) {
    if (input?.data && Number.isInteger(input.channels)) return input;
    if (isTensor(input)) {
      const [height, width, channels] = input.shape;
      if (input.rank !== 3 || (channels !== 3 && channels !== 4)) {
        throw new Error(`expected an [H, W, 3|4] tensor, got [${input.shape}]`);
      }
      return { data: await input.data(), width, height, channels };
    }
    if (typeof ImageData !== "undefined" && input instanceof ImageData) {
      return { data: input.data, width: input.width, height: input.height, channels: 4 };
    }
    const [width, height] = sourceSize(input);
    if (!width || !height) throw new Error("the image has no pixels yet (not loaded?)");
    const canvas = this.context?.canvas;
    if (!canvas || canvas.width !== width || canvas.height !== height) {
      this.context = makeContext(width, height);
    }
    this.context.drawImage(input, 0, 0, width, height);
    const { data } = this.context.getImageData(0, 0, width, height);
    return { data, width, height, channels: 4 };
  }
}
