// The browser engines: one per export format. Adding an engine = one module exporting
// `engine` ({name, label, format, modelFile, backends, candidates, fallback, open}) plus one
// line here.
import { engine as litert } from "./litert.js";
import { engine as ort } from "./ort.js";
import { engine as tfjs } from "./tfjs.js";

/** In the order "auto" tries them: the fastest on most devices first. */
export const ENGINES = Object.freeze([litert, ort, tfjs]);

/** The engine called `name` ("tfjs", "litert", "ort"). */
export function engineNamed(name) {
  const found = ENGINES.find((e) => e.name === name);
  if (!found) {
    throw new Error(`unknown engine '${name}': use auto or one of ` +
      `${ENGINES.map((e) => e.name).join(", ")}`);
  }
  return found;
}

/** The engine running export format `format` ("tfjs", "tflite", "onnx"), or undefined. */
export function engineForFormat(format) {
  return ENGINES.find((e) => e.format === format);
}

/** The engine whose model file `url` names (model.json, *.tflite, *.onnx), or undefined. */
export function engineForFile(url) {
  const path = String(url).split(/[?#]/)[0];
  if (path.endsWith(".tflite")) return litert;
  if (path.endsWith(".onnx")) return ort;
  if (path.endsWith(".json") && !path.endsWith("detector.json")) return tfjs;
  return undefined;
}
