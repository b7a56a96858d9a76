// The live view: runs the detector (in Web Workers) on camera frames, pipelined, or once on a
// still image, and draws the results over it.
//
// Camera frames are captured (a VideoFrame each, read in the prep worker) while earlier ones
// are still being detected: up to PIPELINE_DEPTH frames are in flight, so frame n+1 is captured and
// preprocessed in one worker while frame n runs in the other. A new frame is captured only
// once the camera has presented one since the last capture.
import { clearOverlay, drawDetections } from "./overlay.js";

const PIPELINE_DEPTH = 2;

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
    this.inflight = new Set();
    this.presented = 0; // frames the camera presented (requestVideoFrameCallback)
    this.captured = -1; // the presented count when the last frame was captured
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
    await Promise.allSettled([...this.inflight]);
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

  /** Start detecting `source`; the promise settles with the frame's result. */
  track(source) {
    const start = performance.now();
    const work = this.detector.detect(source, { minScore: this.minScore }).then((found) => {
      this.lastDetections = found;
      this.redraw();
      this.onResult(found, performance.now() - start);
    });
    const tracked = work.finally(() => this.inflight.delete(tracked));
    this.inflight.add(tracked);
    return work;
  }

  async detectStill() {
    if (!this.detector || this.mode !== "still" || !this.still.naturalWidth) return;
    await this.track(this.still);
  }

  startLoop() {
    const id = ++this.loopId;
    const video = this.video;
    const live = () => id === this.loopId && this.detector !== null;
    if (video.requestVideoFrameCallback) {
      const onFrame = () => {
        if (!live()) return;
        this.presented++;
        this.pump(id);
        video.requestVideoFrameCallback(onFrame);
      };
      video.requestVideoFrameCallback(onFrame);
    } else {
      this.presented = NaN; // no way to tell new frames apart: capture whenever a slot frees
    }
    this.pump(id);
  }

  /** Fill the pipeline with new camera frames while there is room. */
  pump(id) {
    while (id === this.loopId && this.detector && this.inflight.size < PIPELINE_DEPTH &&
           this.video.readyState >= 2 && this.presented !== this.captured) {
      this.captured = this.presented;
      this.track(this.video).then(() => this.pump(id), (err) => {
        if (id === this.loopId) throw err;
        // the detector was swapped mid-frame: that frame is simply dropped
      });
    }
  }

  clear() {
    this.lastDetections = [];
    clearOverlay(this.overlay);
  }
}
