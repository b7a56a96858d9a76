// Browser image sources -> RGB(A) pixels on the CPU, the input of preprocess.toModelInput.
// Reading pixels back is what tf.browser.fromPixels does for the wasm and cpu backends too;
// doing it here lets the exact Pillow-compatible resize run on any backend.
import * as tf from "@tensorflow/tfjs";

/** Width and height of a DOM image source as drawn (natural size, not CSS size). */
function sourceSize(input) {
  if (input.tagName === "VIDEO") {
    if (input.readyState < 2) throw new Error("the video has no frame yet: wait for 'loadeddata'");
    return [input.videoWidth, input.videoHeight];
  }
  if (input.tagName === "IMG") return [input.naturalWidth, input.naturalHeight];
  return [input.width, input.height]; // canvas, OffscreenCanvas, ImageBitmap, VideoFrame
}

/** A reusable 2D context to read pixels from (one per reader: video frames reuse it). */
function makeContext(width, height) {
  const canvas = typeof OffscreenCanvas !== "undefined"
    ? new OffscreenCanvas(width, height)
    : Object.assign(document.createElement("canvas"), { width, height });
  return canvas.getContext("2d", { willReadFrequently: true });
}

/** Reads pixels from images, videos, canvases, bitmaps, ImageData and tf tensors. */
export class PixelReader {
  constructor() {
    this.context = null;
  }

  /**
   * @returns {Promise<{data: ArrayLike<number>, width: number, height: number,
   *   channels: number}>}
   */
  async read(input) {
    if (input instanceof tf.Tensor) {
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
