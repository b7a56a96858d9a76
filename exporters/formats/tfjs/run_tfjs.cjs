#!/usr/bin/env node
// Run a TF.js graph model in Node with the wasm backend: the runtime browsers use.
//
//   node run_tfjs.cjs MODEL_DIR INPUT.npy OUT_DIR [--repeat N] [--warmup N]
//
// INPUT.npy is a float32 (or int32) [B, H, W, 3] batch, already preprocessed by sdk.preprocess.
// Every image is run separately (batch 1, as on a device). Writes OUT_DIR/<name>.npy (one per
// output key of the model.json signature, batch re-stacked) and OUT_DIR/result.json with the
// output names, shapes, backend and per-run latencies (ms, outputs read back).
// CommonJS on purpose: require() honours NODE_PATH, so the caller can point it at the
// project's node_modules wherever this file is installed.
"use strict";

const fs = require("fs");
const path = require("path");
const tf = require("@tensorflow/tfjs");
const wasm = require("@tensorflow/tfjs-backend-wasm");

const DTYPES = { "<f4": ["float32", Float32Array], "<i4": ["int32", Int32Array] };

function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString("latin1", 1, 6) !== "NUMPY") throw new Error(`${file}: not a .npy file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString("latin1", start, start + headerLen);
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(",").filter((s) => s.trim())
    .map(Number);
  if (!(descr in DTYPES) || /'fortran_order':\s*True/.test(header)) {
    throw new Error(`${file}: need a C-order float32/int32 array, got ${descr}`);
  }
  const [dtype, Typed] = DTYPES[descr];
  const body = buf.subarray(start + headerLen);
  const data = new Typed(body.buffer.slice(body.byteOffset, body.byteOffset + body.length));
  return { dtype, shape, data };
}

/** Write float32 ``chunks`` (concatenated in order) as a .npy array of ``shape``. */
function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(", ")}${
    shape.length === 1 ? "," : ""}), }`;
  header += " ".repeat(63 - ((header.length + 10) % 64)) + "\n";
  const pre = Buffer.alloc(10);
  pre.write("\x93NUMPY", 0, "latin1");
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.concat(data.map((chunk) => Buffer.from(new Float32Array(chunk).buffer)));
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, "latin1"), body]));
}

function loadArtifacts(modelDir) {
  const json = JSON.parse(fs.readFileSync(path.join(modelDir, "model.json"), "utf8"));
  const specs = [];
  const chunks = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const p of group.paths) chunks.push(fs.readFileSync(path.join(modelDir, p)));
  }
  const all = Buffer.concat(chunks);
  return {
    json,
    artifacts: {
      modelTopology: json.modelTopology, weightSpecs: specs, format: json.format,
      generatedBy: json.generatedBy, convertedBy: json.convertedBy, signature: json.signature,
      userDefinedMetadata: json.userDefinedMetadata,
      modelInitializer: json.modelInitializer, initializerSignature: json.initializerSignature,
      weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.length),
    },
  };
}

function argValue(args, name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

async function main() {
  const args = process.argv.slice(2);
  const [modelDir, inputFile, outDir] = args;
  const repeat = argValue(args, "--repeat", 0);
  const warmup = argValue(args, "--warmup", 1);
  const wasmFile = require.resolve("@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm");
  wasm.setWasmPaths(path.dirname(wasmFile) + path.sep);
  await tf.setBackend("wasm");
  await tf.ready();
  const { json, artifacts } = loadArtifacts(modelDir);
  const model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  // Read outputs by signature key (boxes/scores), never by position: converters reorder them.
  const keys = Object.keys(json.signature.outputs);
  const nodes = keys.map((k) => json.signature.outputs[k].name);
  const inputName = Object.values(json.signature.inputs)[0].name;
  const input = readNpy(inputFile);
  const [batch, ...frame] = input.shape;
  const per = frame.reduce((a, b) => a * b, 1);
  const collected = keys.map(() => []);
  let shapes = [];
  const baseline = tf.memory().numTensors;
  const runOnce = (i) => tf.tidy(() => {
    const x = tf.tensor(input.data.subarray(i * per, (i + 1) * per), [1, ...frame], input.dtype);
    return model.execute({ [inputName]: x }, nodes);
  });
  for (let i = 0; i < batch; i += 1) {
    const outs = runOnce(i);
    shapes = outs.map((t) => t.shape);
    outs.forEach((t, k) => collected[k].push(t.dataSync()));
    tf.dispose(outs);
  }
  const times = [];
  for (let i = -Math.min(warmup, repeat); i < repeat; i += 1) {
    const t0 = process.hrtime.bigint();
    const outs = runOnce(Math.abs(i) % batch);
    outs.forEach((t) => t.dataSync()); // read back: forces the work to finish
    if (i >= 0) times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    tf.dispose(outs);
  }
  fs.mkdirSync(outDir, { recursive: true });
  keys.forEach((k, j) => writeNpy(path.join(outDir, `${k}.npy`), [batch, ...shapes[j].slice(1)],
    collected[j]));
  const result = {
    outputs: keys, nodes, shapes, backend: tf.getBackend(), tfjs: tf.version.tfjs,
    threads: wasm.getThreadsCount ? wasm.getThreadsCount() : 1, latency_ms: times,
    leaked_tensors: tf.memory().numTensors - baseline,
  };
  fs.writeFileSync(path.join(outDir, "result.json"), JSON.stringify(result));
}

main().catch((err) => {
  process.stderr.write(`run_tfjs: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
