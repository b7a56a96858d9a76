// The live view: runs the detector on camera frames (one at a time, as fast as the device
// allows) or once on a still image, and draws the results over it.
import { clearOverlay, drawDetections } from "./overlay.js";

export class LiveView {
  /**
   * @param {object} els {video, still, overlay}
   * @param {(detections: object[], latencyMs: number) => void} onResult
   */
  constructor(els, onResult) {
    Object.assign(this, els);
    this.onResult = onResult;
    this.detector = null;
    this.minScore = 0.5;
    this.mode = "none"; // "camera" | "still" | "none"
    this.loopId = 0; // bumping it ends the running loop
    this.lastDetections = [];
    this.inflight = Promise.resolve();
    // Redraw on rotation / resize so the boxes follow the picture.
    new ResizeObserver(() => this.redraw()).observe(this.overlay);
  }

  setDetector(detector) {
    this.detector = detector;
    if (this.mode === "camera") this.startLoop();
    else if (this.mode === "still") this.detectStill();
  }

  /** Stop using the detector; resolves once no frame is using it (safe to dispose). */
  async detach() {
    this.loopId++;
    const old = this.detector;
    this.detector = null;
    await this.inflight;
    return old;
  }

  showCamera() {
    this.mode = "camera";
    this.still.hidden = true;
    this.video.hidden = false;
    this.startLoop();
  }

  async showStill(url) {
    this.mode = "still";
    this.loopId++;
    this.video.hidden = true;
    this.still.hidden = false;
    this.still.src = url;
    await this.still.decode();
    await this.detectStill();
  }

  mediaSize() {
    return this.mode === "camera"
      ? [this.video.videoWidth, this.video.videoHeight]
      : [this.still.naturalWidth, this.still.naturalHeight];
  }

  redraw() {
    drawDetections(this.overlay, this.lastDetections, ...this.mediaSize());
  }

  async runOnce(source) {
    const start = performance.now();
    const work = this.detector.detect(source, { minScore: this.minScore });
    this.inflight = work.catch(() => {});
    const detections = await work;
    this.lastDetections = detections;
    this.redraw();
    this.onResult(detections, performance.now() - start);
  }

  async detectStill() {
    if (!this.detector || this.mode !== "still" || !this.still.naturalWidth) return;
    await this.runOnce(this.still);
  }

  startLoop() {
    const id = ++this.loopId;
    const next = (fn) => (this.video.requestVideoFrameCallback
      ? this.video.requestVideoFrameCallback(fn) : requestAnimationFrame(fn));
    const tick = async () => {
      if (id !== this.loopId || !this.detector) return;
      if (this.video.readyState >= 2) {
        try {
          await this.runOnce(this.video);
        } catch (err) {
          if (id === this.loopId) throw err;
          return; // the detector was swapped mid-frame: that frame is simply dropped
        }
      }
      if (id === this.loopId) next(tick);
    };
    next(tick);
  }

  clear() {
    this.lastDetections = [];
    clearOverlay(this.overlay);
  }
}
