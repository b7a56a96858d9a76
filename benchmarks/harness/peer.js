// Harness page of benchmarks/browser_peer.py: starts one bench_worker.js per contender and
// relays the Python side's calls (setup, timed blocks, output checks); and the camera loop
// comparison on Chromium's fake camera (the SDK's worker pipeline against the sequential
// `await detect()` loop).
import { load, loadInWorker } from "@sdk/detector.js";
import { pageImports } from "@sdk/vendor.js";

const contenders = {};
let nextId = 1;
const abs = (url) => new URL(url, location.href).href;

/** Call `call(...args)` in a contender's worker. */
function callWorker(worker, call, ...args) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    const onMessage = (event) => {
      if (event.data.id !== id) return;
      worker.removeEventListener("message", onMessage);
      if (event.data.ok) resolve(event.data.result);
      else reject(new Error(event.data.error));
    };
    worker.addEventListener("message", onMessage);
    worker.postMessage({ id, call, args });
  });
}

/** Start a contender in its own worker; resolves to its facts (engine, threads, ...). */
async function add(name, options) {
  const worker = new Worker("/harness/bench_worker.js", { name });
  contenders[name] = worker;
  const setup = { ...options, imports: pageImports(), sdkUrl: abs("/sdk/"),
    imageUrl: abs(options.imageUrl), urls: (options.urls ?? []).map(abs),
    modelUrl: options.modelUrl && abs(options.modelUrl),
    specUrl: options.specUrl && abs(options.specUrl) };
  try {
    return await callWorker(worker, "setup", setup);
  } catch (err) {
    worker.terminate();
    delete contenders[name];
    throw err;
  }
}

const block = (name, kind, runs) => callWorker(contenders[name], "block", kind, runs);

/** Max |Δ| of boxes and scores of `name` against the reference at `url` (JSON). */
async function compare(name, url) {
  const reference = await (await fetch(url)).json();
  return callWorker(contenders[name], "compare", [reference.boxes, reference.scores]);
}

/** End every contender (their workers, engines and threads). */
function clear() {
  for (const worker of Object.values(contenders)) worker.terminate();
  for (const name of Object.keys(contenders)) delete contenders[name];
}

// ---- camera loop ---------------------------------------------------------------------

let video = null;

async function camera() {
  if (video) return { width: video.videoWidth, height: video.videoHeight };
  video = document.createElement("video");
  Object.assign(video, { muted: true, playsInline: true });
  video.srcObject = await navigator.mediaDevices.getUserMedia(
    { video: { width: 640, height: 480 }, audio: false });
  await video.play();
  while (video.readyState < 2) await new Promise((r) => setTimeout(r, 20));
  document.body.append(video);
  return { width: video.videoWidth, height: video.videoHeight };
}

const loops = {};

/** The detectors compared on the camera: main-thread load() and loadInWorker(). */
async function cameraSetup(urls, options) {
  await camera();
  for (const d of Object.values(loops)) d.dispose();
  loops.main = await load(urls.map(abs), options);
  loops.worker = await loadInWorker(urls.map(abs), options);
  return { main: { ...loops.main.info, trials: undefined },
    worker: { ...loops.worker.info, trials: undefined } };
}

/**
 * Frames detected per second over `seconds`: "sequential" awaits each detect() of the
 * main-thread detector (the loop a page writes first), "worker1" the same with the worker
 * detector, "pipelined" keeps `depth` frames in flight in the worker pipeline (the demo's
 * live loop). Every loop takes the camera's current frame whenever it can start one.
 */
async function cameraLoop(mode, seconds, depth = 2) {
  const det = mode === "sequential" ? loops.main : loops.worker;
  const inFlight = mode === "pipelined" ? depth : 1;
  await det.detect(video); // untimed: wakes the threads, sizes the buffers
  let frames = 0;
  const stages = {}; // stage -> per-frame ms (the detector's lastTimings)
  const start = performance.now();
  const end = start + seconds * 1000;
  const lane = async () => {
    while (performance.now() < end) {
      await det.detect(video);
      frames++;
      for (const [k, v] of Object.entries(det.lastTimings ?? {})) (stages[k] ??= []).push(v);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, lane));
  const elapsed = (performance.now() - start) / 1000;
  const median = (v) => [...v].sort((a, b) => a - b)[v.length >> 1];
  const stagesMs = Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, median(v)]));
  return { frames, seconds: elapsed, fps: frames / elapsed, stagesMs };
}

function cameraClear() {
  for (const [key, d] of Object.entries(loops)) {
    d.dispose();
    delete loops[key];
  }
}

window.peer = { add, block, compare, clear, cameraSetup, cameraLoop, cameraClear };
window.ready = true;
