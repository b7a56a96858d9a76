// detector.json in the browser: a port of the checks and defaults of sdk/spec.py (the one
// contract every runtime reads; nothing about labels, sizes or outputs is hard-coded here).

export const SCHEMA_VERSION = 1;

const INPUT_DEFAULTS = {
  resize: "letterbox", pad_value: 114, channel_order: "RGB", layout: "NHWC",
  mean: [127.5, 127.5, 127.5], std: [127.5, 127.5, 127.5], dtype: "float32", name: "images",
};
const OUTPUT_DEFAULTS = { boxes: "boxes", scores: "scores", box_layout: "xyxy", num_anchors: 0,
  kind: "canonical", label_offset: 0, layout: "features_first" };
// The output tensors each outputs.kind reads, in the order engines return them, and the
// fields each kind may set (as sdk/spec.py).
const KIND_TENSORS = {
  canonical: ["boxes", "scores"],
  detections: ["locations", "classes", "scores", "num_detections"],
  yolo: ["predictions"],
};
const KIND_FIELDS = {
  canonical: ["boxes", "scores", "order", "box_layout", "num_anchors", "kind"],
  detections: ["kind", "locations", "classes", "scores", "num_detections", "label_offset"],
  yolo: ["kind", "predictions", "layout", "box_units", "num_anchors"],
};

/** The output tensor names of a parsed spec's "outputs", in the order engines return them. */
export function outputNames(outputs) {
  return KIND_TENSORS[outputs.kind ?? "canonical"].map((field) => outputs[field]);
}

/**
 * Expected shapes (-1: any) of the outputs of a non-canonical kind, in outputNames order
 * (engines check canonical outputs themselves, with N taken from the boxes).
 */
export function kindShapes(spec) {
  const c = spec.labels.length;
  if (spec.outputs.kind === "detections") return [[1, -1, 4], [1, -1], [1, -1], [1]];
  return spec.outputs.layout === "anchors_first" ? [[1, -1, 4 + c]] : [[1, 4 + c, -1]];
}

/** Validate detector.json "outputs" (same checks and wording as sdk/spec.py). */
function parseOutputs(raw, source) {
  check(raw !== null && typeof raw === "object" && !Array.isArray(raw), source, "outputs",
    "must be an object");
  const kind = raw.kind ?? "canonical";
  check(kind in KIND_TENSORS, source, "outputs.kind",
    `must be one of canonical|detections|yolo, got ${JSON.stringify(kind)}`);
  const unknown = Object.keys(raw).filter((k) => !KIND_FIELDS[kind].includes(k));
  check(unknown.length === 0, source, "outputs",
    `has keys ${JSON.stringify(unknown.sort())} that kind '${kind}' does not use`);
  for (const name of KIND_TENSORS[kind]) {
    check(kind === "canonical" || name in raw, source, `outputs.${name}`,
      `is required when outputs.kind is '${kind}' (the output tensor's name)`);
  }
  const outputs = { ...OUTPUT_DEFAULTS, ...raw, kind };
  for (const name of KIND_TENSORS[kind]) {
    check(typeof outputs[name] === "string" && outputs[name], source, `outputs.${name}`,
      "must be a non-empty tensor name");
  }
  for (const name of ["num_anchors", "label_offset"]) {
    check(Number.isInteger(outputs[name]) && outputs[name] >= 0, source, `outputs.${name}`,
      `must be a non-negative integer, got ${JSON.stringify(outputs[name])}`);
  }
  if (kind === "yolo") {
    check(["features_first", "anchors_first"].includes(outputs.layout), source,
      "outputs.layout", "must be features_first|anchors_first ([1, 4+C, N] or [1, N, 4+C])");
    check(["pixels", "normalized"].includes(outputs.box_units), source, "outputs.box_units",
      "is required when outputs.kind is 'yolo': pixels|normalized");
  }
  check(outputs.box_layout === "xyxy", source, "outputs.box_layout", "must be xyxy");
  return outputs;
}
const NMS_DEFAULTS = {
  iou_threshold: 0.5, score_threshold: 0.3, max_detections: 100, class_agnostic: false,
  pre_nms_top_k: 1000,
};

/** Throw an Error naming the source and the field (same wording as the Python SpecError). */
function check(cond, source, field, msg) {
  if (!cond) throw new Error(`${source}: field '${field}' ${msg}`);
}

/**
 * Validate a parsed detector.json and fill its defaults.
 * @param {object} data the parsed JSON.
 * @param {string} source where it came from, for messages.
 * @returns {{input: object, outputs: object, nms: object, labels: string[]}}
 */
export function parseSpec(data, source) {
  check(data !== null && typeof data === "object", source, "<root>", "must be a JSON object");
  if (data.schema_version !== SCHEMA_VERSION) {
    throw new Error(`${source}: unsupported schema_version ${JSON.stringify(data.schema_version)}` +
      ` (this runtime reads version ${SCHEMA_VERSION})`);
  }
  const input = { ...INPUT_DEFAULTS, ...data.input };
  const size = input.size;
  check(Array.isArray(size) && size.length === 2 && size.every((v) => Number.isInteger(v) && v > 0),
    source, "input.size", "must be [height, width] positive integers");
  check(["letterbox", "stretch"].includes(input.resize), source, "input.resize",
    "must be letterbox|stretch");
  check(["float32", "uint8", "int8"].includes(input.dtype), source, "input.dtype",
    "must be float32|uint8|int8");
  if (input.dtype !== "float32") {
    check(typeof input.quant_scale === "number" && input.quant_scale > 0 &&
      Number.isInteger(input.quant_zero_point), source, "input.quant_scale",
    `and input.quant_zero_point are required for ${input.dtype} input (the input tensor's)`);
  }
  check(["RGB", "BGR"].includes(input.channel_order), source, "input.channel_order",
    "must be RGB|BGR");
  check(input.mean.length === 3 && input.std.length === 3 && input.std.every((s) => s > 0),
    source, "input.mean/std", "need 3 values, std positive");
  const labels = data.labels;
  check(Array.isArray(labels) && labels.length > 0 && labels.every((l) => typeof l === "string" && l),
    source, "labels", "must be a non-empty list of non-empty strings");
  const outputs = parseOutputs(data.outputs ?? {}, source);
  const nms = { ...NMS_DEFAULTS, ...data.nms };
  check(nms.iou_threshold >= 0 && nms.iou_threshold <= 1, source, "nms.iou_threshold",
    "must be in [0, 1]");
  check(nms.score_threshold >= 0 && nms.score_threshold <= 1, source, "nms.score_threshold",
    "must be in [0, 1]");
  check(nms.max_detections > 0, source, "nms.max_detections", "must be positive");
  return { input, outputs, nms, labels, provenance: data.provenance ?? {} };
}
