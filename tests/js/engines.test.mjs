// The engine registry and the package facts the runtime relies on (no browser needed).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { ENGINES, engineForFile, engineForFormat, engineNamed } from "../../sdk/js/engines/index.js";
import { LITERT_VERSION } from "../../sdk/js/engines/litert.js";

const readJson = (path) => JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8"));

test("one engine per browser export format, found by format, file and name", () => {
  assert.deepEqual(ENGINES.map((e) => [e.name, e.format, e.modelFile]), [
    ["litert", "tflite", "model.tflite"], ["ort", "onnx", "model.onnx"],
    ["tfjs", "tfjs", "model.json"]]);
  assert.equal(engineForFormat("onnx").name, "ort");
  assert.equal(engineForFile("/models/x/model.tflite?v=1").name, "litert");
  assert.equal(engineForFile("/models/x/model.json").name, "tfjs");
  assert.equal(engineForFile("/models/x/detector.json"), undefined);
  assert.equal(engineForFile("/models/x/"), undefined);
  assert.throws(() => engineNamed("tensorflow"), /unknown engine 'tensorflow': use auto or one of/);
});

test("every engine tries WebGPU and wasm; TF.js also webgl and falls back to cpu", () => {
  for (const engine of ENGINES) {
    assert.ok(engine.candidates.includes("wasm") && engine.candidates.includes("webgpu"));
    assert.ok(engine.candidates.every((b) => engine.backends.includes(b)));
  }
  assert.equal(engineNamed("tfjs").fallback, "cpu");
});

test("the LiteRT.js version reported is the installed package's", () => {
  // @litertjs/core exports no version: the runtime states the one it is pinned to.
  const installed = readJson("../../node_modules/@litertjs/core/package.json").version;
  assert.equal(LITERT_VERSION, installed);
  const pinned = readJson("../../package.json").dependencies["@litertjs/core"];
  assert.equal(pinned, installed);
});

test("the browser package declares its entry points, types and optional engine peers", () => {
  const pkg = readJson("../../sdk/js/package.json");
  assert.equal(pkg.type, "module");
  assert.equal(pkg.exports["."].default, "./detector.js");
  assert.equal(pkg.exports["."].types, "./index.d.ts");
  assert.equal(pkg.exports["./worker"], "./worker.js");
  for (const peer of ["@litertjs/core", "onnxruntime-web", "@tensorflow/tfjs"]) {
    assert.ok(pkg.peerDependencies[peer], peer);
    assert.equal(pkg.peerDependenciesMeta[peer].optional, true);
  }
});
