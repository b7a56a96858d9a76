// The detector worker (started by worker-client.js through worker.js). Two roles:
//
// * "engine": loads the detector (any engine) and answers `load`, `detect` (a frame: it
//   reads and preprocesses the pixels itself), `input` (an already preprocessed input from a
//   "prep" worker, answered to the page directly) and `runModel`;
// * "prep": reads a frame's pixels and preprocesses them into one of a few recycled input
//   buffers, then hands the buffer to the engine worker (transferred, not copied), which
//   hands it back after the inference. With both, frame n+1 is prepared while frame n runs.
import { load } from "./detector.js";
import { PixelReader } from "./image.js";
import { Preprocessor } from "./preprocess.js";
import { useImports } from "./vendor.js";

const PREP_BUFFERS = 3; // inputs in flight between the two workers (n, n+1, one spare)

let role = null;
let detector = null;
let pipe = null; // MessagePort between the prep and the engine worker
const reader = new PixelReader();
const prep = { all: [], free: [], waiting: [] }; // prep role: its Preprocessors, idle ones,
// frames waiting for one
let queue = Promise.resolve(); // engine role: one model run at a time, in arrival order

/** Run `fn` after everything queued before it (an engine session runs one input at once). */
function serial(fn) {
  const result = queue.then(fn);
  queue = result.catch(() => {});
  return result;
}

function reply(id, result, transfer = []) {
  self.postMessage({ id, ok: true, result }, transfer);
}

function fail(id, err) {
  self.postMessage({ id, ok: false, error: String(err?.message ?? err) });
}

/** Pixels of a transferred frame (ImageBitmap, VideoFrame) or of plain pixel data. */
async function pixelsOf(frame) {
  try {
    return await reader.read(frame);
  } finally {
    frame.close?.(); // an ImageBitmap/VideoFrame holds decoded memory until closed
  }
}

// ---- engine role -------------------------------------------------------------------------

async function engineMessage(msg) {
  switch (msg.type) {
    case "load": {
      detector?.dispose();
      detector = null;
      detector = await load(msg.exports, msg.options);
      return { info: detector.info, spec: detector.spec };
    }
    case "detect": {
      const t0 = performance.now();
      const pixels = await pixelsOf(msg.frame);
      const detections = await detector.detectPixels(pixels, msg.options, t0);
      return { detections, timings: detector.lastTimings };
    }
    case "runModel": {
      const outputs = await detector.runModel(msg.input);
      return { outputs: outputs.map((o) => Float32Array.from(o)),
        timings: detector.session.timings };
    }
    case "dispose":
      detector?.dispose();
      detector = null;
      return null;
    default:
      throw new Error(`unknown message ${msg.type}`);
  }
}

/** A preprocessed input from the prep worker: run it, answer the page, return the buffer. */
async function engineInput(msg) {
  const t1 = performance.now();
  try {
    const outputs = await detector.session.run(msg.input);
    const t2 = performance.now();
    const detections = detector.post.run(outputs, msg.geometry, msg.options);
    const { readback } = detector.session.timings;
    const timings = { preprocess: msg.preprocessMs, inference: t2 - t1 - readback, readback,
      postprocess: performance.now() - t2 };
    detector.lastTimings = timings;
    reply(msg.id, { detections, timings });
  } catch (err) {
    fail(msg.id, err);
  } finally {
    pipe.postMessage({ type: "buffer", slot: msg.slot, buffer: msg.input }, [msg.input.buffer]);
  }
}

// ---- prep role ---------------------------------------------------------------------------

function prepReset(spec) {
  prep.all = Array.from({ length: PREP_BUFFERS }, () => new Preprocessor(spec.input));
  prep.free = [...prep.all];
  prep.waiting = [];
}

async function prepFrame(msg) {
  const t0 = performance.now();
  let pixels;
  try {
    pixels = await pixelsOf(msg.frame);
  } catch (err) {
    fail(msg.id, err);
    return;
  }
  const pre = prep.free.pop();
  if (!pre) {
    prep.waiting.push({ msg, pixels, t0 });
    return;
  }
  prepRun(pre, msg, pixels, t0);
}

function prepRun(pre, msg, pixels, t0) {
  try {
    const { data, geometry } = pre.run(pixels);
    const preprocessMs = performance.now() - t0;
    pipe.postMessage({ type: "input", id: msg.id, slot: prep.all.indexOf(pre), input: data,
      geometry, options: msg.options, preprocessMs }, [data.buffer]);
  } catch (err) {
    prep.free.push(pre);
    fail(msg.id, err);
  }
}

function prepBufferBack(slot, buffer) {
  const pre = prep.all[slot];
  if (!pre || pre.output.length !== 0) return; // a buffer lent before a new spec: dropped
  pre.output = buffer; // its padding is intact: the engines copy their input
  const next = prep.waiting.shift();
  if (next) prepRun(pre, next.msg, next.pixels, next.t0);
  else prep.free.push(pre);
}

// ---- wiring ------------------------------------------------------------------------------

async function onPageMessage(event) {
  const msg = event.data;
  if (msg.type === "init") {
    role = msg.role;
    if (msg.imports && Object.keys(msg.imports).length) useImports(msg.imports);
    if (msg.port) {
      pipe = msg.port;
      pipe.onmessage = (e) => onPipeMessage(e.data);
    }
    reply(msg.id, { role });
    return;
  }
  if (role === "prep") {
    if (msg.type === "spec") {
      prepReset(msg.spec);
      reply(msg.id, null);
    } else if (msg.type === "detect") {
      prepFrame(msg);
    } else {
      fail(msg.id, `the prep worker does not handle ${msg.type}`);
    }
    return;
  }
  try {
    reply(msg.id, await serial(() => engineMessage(msg)));
  } catch (err) {
    fail(msg.id, err);
  }
}

function onPipeMessage(msg) {
  if (msg.type === "input") serial(() => engineInput(msg));
  else if (msg.type === "buffer") prepBufferBack(msg.slot, msg.buffer);
}

self.onmessage = onPageMessage;
for (const event of self.pendingMessages ?? []) onPageMessage(event);
self.pendingMessages = null;
