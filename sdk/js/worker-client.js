// The detector in Web Workers: the page stays responsive while a model runs, and frames are
// pipelined. loadInWorker() starts two workers (worker.js): a "prep" worker that reads each
// frame's pixels and preprocesses them, and an "engine" worker that runs the model and the
// post-processing and answers the page. Frames go over as VideoFrames or ImageBitmaps
// (transferred, not copied), inputs between the workers as recycled buffers; several
// detect() calls may be in flight, so frame n+1 is prepared while frame n runs.
import { pageImports } from "./vendor.js";

/** Calls pending in a group of workers by request id (an answer may come from another
 * worker of the group than the one asked: the prep worker's frames are answered by the
 * engine worker). */
class Calls {
  constructor() {
    this.pending = new Map();
    this.nextId = 1;
  }
}

/** Calls a worker with request ids; rejects every pending call if the worker dies. */
class WorkerChannel {
  constructor(url, name, calls) {
    this.worker = new Worker(url, { name });
    this.calls = calls;
    this.worker.onmessage = (event) => this.settle(event.data);
    this.worker.onerror = (event) => {
      event.preventDefault?.();
      this.failAll(new Error(`detector worker error: ${event.message ?? "failed to start"}`));
    };
  }

  settle(msg) {
    if (msg.type === "fatal") {
      this.failAll(new Error(msg.error));
      return;
    }
    const call = this.calls.pending.get(msg.id);
    if (!call) return;
    this.calls.pending.delete(msg.id);
    if (msg.ok) call.resolve(msg.result);
    else call.reject(new Error(msg.error));
  }

  failAll(error) {
    for (const call of this.calls.pending.values()) call.reject(error);
    this.calls.pending.clear();
    this.dead = error;
  }

  /** Send a message and wait for its answer (the answer may come from the other worker). */
  call(message, transfer = []) {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.calls.nextId++;
    return new Promise((resolve, reject) => {
      this.calls.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }

  terminate() {
    this.failAll(new Error("the detector was disposed"));
    this.worker.terminate();
  }
}

/** True for what postMessage can transfer instead of copy (and closes on this side). */
function transferable(frame) {
  return (typeof ImageBitmap !== "undefined" && frame instanceof ImageBitmap) ||
    (typeof VideoFrame !== "undefined" && frame instanceof VideoFrame);
}

/**
 * The frame to send: a video's current frame as a VideoFrame (no pixel copy on this thread:
 * the worker reads it), other images as an ImageBitmap, both transferred; ImageData or
 * pixel data are copied.
 */
async function frameOf(input) {
  if (transferable(input)) return input;
  if (typeof ImageData !== "undefined" && input instanceof ImageData) {
    return { data: input.data, width: input.width, height: input.height, channels: 4 };
  }
  if (input?.data && Number.isInteger(input.channels)) return input;
  if (input?.tagName === "VIDEO") {
    if (input.readyState < 2) throw new Error("the video has no frame yet: wait for 'loadeddata'");
    if (typeof VideoFrame === "function") return new VideoFrame(input);
  }
  return createImageBitmap(input);
}

/** A detector living in workers: the same detect()/info/lastTimings/dispose() as load()'s. */
export class WorkerDetector {
  constructor(engine, prep, loaded) {
    this.engine = engine;
    this.prep = prep;
    this.info = loaded.info;
    this.spec = loaded.spec;
    this.lastTimings = null;
  }

  /**
   * Detect objects in a frame. Several calls may be in flight (they are answered in order).
   * @param {ImageBitmap|HTMLVideoElement|HTMLImageElement|HTMLCanvasElement|OffscreenCanvas|
   *   ImageData|VideoFrame|{data, width, height, channels}} input an ImageBitmap or
   *   VideoFrame is transferred to the worker (closed here); a video's current frame goes
   *   as a VideoFrame, other images as an ImageBitmap.
   * @param {object} [options] {minScore, maxDetections, iouThreshold}.
   */
  async detect(input, options = {}) {
    const frame = await frameOf(input);
    const transfer = transferable(frame) ? [frame] : [];
    let result;
    try {
      // With a prep worker, it forwards the call's id with the input and the engine answers.
      result = await (this.prep ?? this.engine).call({ type: "detect", frame, options },
        transfer);
    } catch (err) {
      // A frame made here and never transferred (a dead worker) would hold a camera buffer
      // until garbage collected; after a transfer, close() is a no-op.
      if (frame !== input) frame.close?.();
      throw err;
    }
    this.lastTimings = result.timings;
    return result.detections;
  }

  /** Time the model alone in the worker (benchmarks): outputs and the engine's timings. */
  runModel(input) {
    return this.engine.call({ type: "runModel", input });
  }

  /** Stop both workers (their engines, threads and memory go with them). */
  dispose() {
    this.prep?.terminate();
    this.engine.terminate();
  }
}

/**
 * load() in Web Workers: same arguments and options (see detector.js), plus
 * {pipeline: true (default: a second worker prepares frame n+1 while frame n runs),
 * workerUrl (default: worker.js beside this module; a bundler user points it at their
 * bundle of @ondevice-detect/browser/worker built as a classic script)}.
 * @returns {Promise<WorkerDetector>}
 */
export async function loadInWorker(exports, options = {}) {
  const { pipeline = true, workerUrl, ...loadOptions } = options;
  const url = workerUrl ?? new URL("./worker.js", import.meta.url);
  const imports = pageImports();
  const absolute = (u) => new URL(String(u), globalThis.location?.href).href;
  const urls = (Array.isArray(exports) ? exports : [exports]).map(absolute);
  const calls = new Calls();
  const engine = new WorkerChannel(url, "detector-engine", calls);
  let prep = null;
  try {
    if (pipeline) {
      prep = new WorkerChannel(url, "detector-prep", calls);
      const { port1, port2 } = new MessageChannel();
      await Promise.all([
        engine.call({ type: "init", role: "engine", imports, port: port1 }, [port1]),
        prep.call({ type: "init", role: "prep", imports, port: port2 }, [port2])]);
    } else {
      await engine.call({ type: "init", role: "engine", imports });
    }
    const loaded = await engine.call({ type: "load", exports: urls, options: loadOptions });
    if (prep) await prep.call({ type: "spec", spec: loaded.spec });
    return new WorkerDetector(engine, prep, loaded);
  } catch (err) {
    prep?.terminate();
    engine.terminate();
    throw err;
  }
}
