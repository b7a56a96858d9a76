// Load-time check of a TF.js graph model against its detector.json (the twin of
// sdk/runtime/contract.py): outputs are found by the names in the spec, shapes are checked,
// and a mismatch fails at load with the file, the tensor and both shapes in the message.
import { kindShapes, outputNames } from "./spec.js";

/** Dims of a signature TensorInfo ("-1" for unknown), or null when not recorded. */
function signatureDims(info) {
  const dims = info?.tensorShape?.dim;
  return Array.isArray(dims) ? dims.map((d) => Number(d.size)) : null;
}

/** The model input to feed: the spec's input name, else the model's only input. */
function inputName(model, spec, source) {
  const inputs = model.modelSignature?.inputs ?? {};
  if (spec.input.name in inputs) return spec.input.name;
  if (model.inputs.length === 1) return model.inputs[0].name;
  throw new Error(`${source}: input '${spec.input.name}' named in detector.json not found; ` +
    `the model has ${model.inputs.map((t) => t.name).join(", ")}`);
}

/** Throw unless dims (null: unknown) fit the expected shape (-1: any). */
function checkShape(source, name, dims, expected) {
  if (dims === null) return;
  const ok = dims.length === expected.length &&
    dims.every((d, i) => expected[i] === -1 || d === -1 || d === expected[i]);
  if (!ok) {
    throw new Error(`${source}: tensor '${name}' has shape [${dims}], detector.json expects ` +
      `[${expected.map((d) => (d === -1 ? "N" : d))}]`);
  }
}

/**
 * Check the model against the spec; return the names to feed and fetch.
 * @returns {{input: string, outputs: string[]}}
 */
export function bindModel(model, spec, source) {
  const input = inputName(model, spec, source);
  const [h, w] = spec.input.size;
  checkShape(source, input, signatureDims(model.modelSignature?.inputs?.[input]), [-1, h, w, 3]);
  const sigOutputs = model.modelSignature?.outputs ?? {};
  const nodes = model.outputNodes ?? [];
  const outputs = outputNames(spec.outputs);
  for (const name of outputs) {
    if (!(name in sigOutputs) && !nodes.includes(name) && !nodes.includes(name.split(":")[0])) {
      throw new Error(`${source}: output '${name}' named in detector.json not found; the ` +
        `model has ${[...Object.keys(sigOutputs), ...nodes].join(", ")}`);
    }
  }
  if (spec.outputs.kind !== "canonical") {
    const shapes = kindShapes(spec);
    outputs.forEach((name, i) => checkShape(source, name, signatureDims(sigOutputs[name]),
      shapes[i]));
    return { input, outputs };
  }
  const boxDims = signatureDims(sigOutputs[outputs[0]]);
  const n = boxDims?.[1] ?? -1;
  checkShape(source, outputs[0], boxDims, [-1, -1, 4]);
  checkShape(source, outputs[1], signatureDims(sigOutputs[outputs[1]]),
    [-1, n, spec.labels.length]);
  return { input, outputs };
}
