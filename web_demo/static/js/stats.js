// Live numbers under the video: frames per second actually achieved, and median latency.
import { percentile } from "./protocol.js";

const WINDOW_MS = 2000; // long enough to be steady, short enough to follow a model switch

export class LiveStats {
  constructor() {
    this.reset();
  }

  reset() {
    this.frames = []; // [finishedAt, latencyMs]
  }

  /** Record one processed frame. */
  add(latencyMs, now = performance.now()) {
    this.frames.push([now, latencyMs]);
    while (this.frames.length && now - this.frames[0][0] > WINDOW_MS) this.frames.shift();
  }

  /** Frames completed per second over the window (null until two frames). */
  fps() {
    if (this.frames.length < 2) return null;
    const span = this.frames[this.frames.length - 1][0] - this.frames[0][0];
    return span > 0 ? ((this.frames.length - 1) * 1000) / span : null;
  }

  /** Median latency (ms) over the window. */
  p50() {
    if (!this.frames.length) return null;
    return percentile(this.frames.map((f) => f[1]).sort((a, b) => a - b), 50);
  }
}
