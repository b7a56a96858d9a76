// One contender of benchmarks/browser_peer.py, alone in its own Web Worker (so each has its
// own engine runtime, thread pool and thread count, and ending it frees everything):
//
// * "sdk": the SDK's browser runtime, load() on one export (any engine and backend);
// * "ort-raw": onnxruntime-web used directly, as its README shows: InferenceSession on the
//   .onnx file with the wasm execution provider, and for the whole detect() the SDK's own
//   plain pre/post-processing (toModelInput, postprocess, toDetections: the straight ports
//   of the Python reference, allocating per call).
//
// A classic worker (LiteRT.js needs importScripts); modules come in by dynamic import().
// "model" runs time: input upload, inference, reading both outputs back. "detect" runs
// time: pixels read from the probe ImageBitmap, preprocessing, inference, readback,
// post-processing.
let run = null; // {model(), detect(), outputs()}

async function sdkContender(o, sdk, pixelsOf) {
  const det = await sdk.detector.load(o.urls, { engine: o.engine, backend: o.backend,
    threads: o.threads });
  const input = det.pre.run(await pixelsOf()).data.slice(); // stays the model's input
  const info = { ...det.info, trials: undefined };
  run = {
    model: () => det.runModel(input),
    detect: async () => det.detect(o.bitmap),
    outputs: () => det.runModel(input),
    info,
  };
  return info;
}

async function rawOrtContender(o, sdk, pixelsOf) {
  const t0 = performance.now();
  const ort = await import(o.imports["onnxruntime-web/wasm"]);
  ort.env.wasm.wasmPaths = new URL(".", o.imports["onnxruntime-web/wasm"]).href;
  ort.env.wasm.numThreads = o.threads; // its default would be half the cores
  const spec = sdk.spec.parseSpec(await (await fetch(o.specUrl)).json(), o.specUrl);
  const session = await ort.InferenceSession.create(o.modelUrl, { executionProviders: ["wasm"] });
  const loadMs = performance.now() - t0;
  const [h, w] = spec.input.size;
  const [name] = session.inputNames;
  const outputs = [spec.outputs.boxes, spec.outputs.scores];
  const infer = async (x) => {
    const out = await session.run({ [name]: new ort.Tensor("float32", x, [1, h, w, 3]) });
    return outputs.map((n) => out[n].data);
  };
  const reader = new sdk.image.PixelReader();
  const input = sdk.pre.toModelInput(await pixelsOf(), spec.input).data;
  const t1 = performance.now();
  await infer(input);
  const info = { engine: "ort-raw", version: ort.env.versions.web, backend: "wasm",
    threads: ort.env.wasm.numThreads, threadsRequested: o.threads, simd: true, loadMs,
    warmupMs: performance.now() - t1, format: "onnx" };
  run = {
    model: () => infer(input),
    detect: async () => {
      const { data, geometry } = sdk.pre.toModelInput(await reader.read(o.bitmap), spec.input);
      const [boxes, scores] = await infer(data);
      const raw = sdk.post.postprocess(boxes, scores, spec.labels.length, spec.nms);
      return sdk.post.toDetections(raw, geometry, spec.labels);
    },
    outputs: () => infer(input),
    info,
  };
  return info;
}

const handlers = {
  async setup(o) {
    const load = (file) => import(new URL(file, o.sdkUrl).href);
    const sdk = { detector: await load("detector.js"), spec: await load("spec.js"),
      pre: await load("preprocess.js"), post: await load("postprocess.js"),
      image: await load("image.js"), vendor: await load("vendor.js") };
    sdk.vendor.useImports(o.imports);
    const blob = await (await fetch(o.imageUrl)).blob();
    o.bitmap = await createImageBitmap(blob);
    const reader = new sdk.image.PixelReader();
    const pixelsOf = () => reader.read(o.bitmap);
    return o.kind === "ort-raw" ? rawOrtContender(o, sdk, pixelsOf)
      : sdkContender(o, sdk, pixelsOf);
  },

  /** One block: an untimed run (caches, thread wake-up), then `runs` timed runs (ms). */
  async block(kind, runs) {
    await run[kind]();
    const times = [];
    for (let i = 0; i < runs; i++) {
      const start = performance.now();
      await run[kind]();
      times.push(performance.now() - start);
    }
    return times;
  },

  /** Largest |difference| of boxes and scores from the reference outputs. */
  async compare(reference) {
    const got = await run.outputs();
    return got.map((values, k) => {
      let worst = 0;
      for (let i = 0; i < values.length; i++) {
        worst = Math.max(worst, Math.abs(values[i] - reference[k][i]));
      }
      return values.length === reference[k].length ? worst : null;
    });
  },
};

self.onmessage = async (event) => {
  const { id, call, args } = event.data;
  try {
    self.postMessage({ id, ok: true, result: await handlers[call](...args) });
  } catch (err) {
    self.postMessage({ id, ok: false, error: String(err?.message ?? err) });
  }
};
