// Type declarations of the browser runtime (detector.js, worker-client.js).

/** The engines: TF.js (model.json), LiteRT.js (.tflite), onnxruntime-web (.onnx). */
export type EngineName = "tfjs" | "litert" | "ort";
/** wasm and webgpu for every engine; webgl and cpu for TF.js only. */
export type BackendName = "wasm" | "webgpu" | "webgl" | "cpu";

export interface LoadOptions {
  /** "auto" (default): every engine that has one of the given exports. */
  engine?: "auto" | EngineName;
  /** "auto" (default): time each backend of each engine that starts and keep the fastest. */
  backend?: "auto" | BackendName;
  /** The backends "auto" tries (default per engine: webgpu, wasm; TF.js also webgl). */
  candidates?: BackendName[];
  /** wasm threads, set explicitly (default: the cores, at most 4). Needs cross-origin
   * isolation (COOP same-origin + COEP require-corp); TF.js caps it at half the cores. */
  threads?: number;
  /** Folders of each engine's .wasm files (default: beside each package's module, as the
   * page's import map resolves it; required in a bundle). */
  wasmPaths?: { tfjs?: string; litert?: string; ort?: string };
  /** Same as wasmPaths.tfjs (kept from earlier versions). */
  wasmPath?: string;
  /** The export format when neither the URL nor detector.json says it. */
  format?: "tfjs" | "tflite" | "onnx";
}

export interface WorkerLoadOptions extends LoadOptions {
  /** true (default): a second worker prepares frame n+1 while frame n runs. */
  pipeline?: boolean;
  /** The worker script (default: worker.js beside worker-client.js). In a bundle, build
   * "ondevice-detect-sdk/worker" as a classic script (iife) and point this at it. */
  workerUrl?: string | URL;
}

export interface DetectOptions {
  /** Strict lower bound on scores (default: detector.json nms.score_threshold). */
  minScore?: number;
  iouThreshold?: number;
  maxDetections?: number;
}

export interface Detection {
  /** [x, y, width, height] in pixels of the input image. */
  bbox: [number, number, number, number];
  label: string;
  score: number;
  classId: number;
}

export interface Timings {
  preprocess: number;
  inference: number;
  readback: number;
  postprocess: number;
}

export interface Trial {
  warmupMs?: number;
  medianMs?: number;
  threads?: number | null;
  chosen?: boolean;
  /** Why this engine/backend did not start or was not tried. */
  error?: string;
}

export interface DetectorInfo {
  engine: EngineName;
  engineLabel: string;
  /** The engine package's version. */
  version: string | null;
  backend: BackendName;
  /** wasm threads in use (null on GPU backends). */
  threads: number | null;
  threadsRequested: number;
  simd: boolean | null;
  format: "tfjs" | "tflite" | "onnx";
  modelUrl: string;
  /** detector.json and the chosen model: fetch and compile (ms). */
  loadMs: number;
  /** The first inference: compilation, weight upload (ms). */
  warmupMs: number;
  /** Time spent timing the candidates when anything was "auto" (ms). */
  chooseMs: number;
  /** "engine/backend" -> timing or error, when anything was "auto". */
  trials: Record<string, Trial> | null;
  crossOriginIsolated: boolean;
}

export type ImageInput =
  | HTMLImageElement | HTMLVideoElement | HTMLCanvasElement | OffscreenCanvas | ImageBitmap
  | VideoFrame | ImageData
  | { data: ArrayLike<number>; width: number; height: number; channels: 3 | 4 };

/** The parsed detector.json (see the README's table of fields). */
export interface DetectorSpec {
  input: {
    size: [number, number];
    resize: "letterbox" | "stretch";
    pad_value: number;
    channel_order: "RGB" | "BGR";
    mean: [number, number, number];
    std: [number, number, number];
    dtype: "float32" | "uint8" | "int8";
    quant_scale?: number;
    quant_zero_point?: number;
    name: string;
  };
  /** The output form (README "Bring your own detector"); the tensor names it reads. */
  outputs: {
    kind: "canonical" | "detections" | "yolo";
    boxes: string; scores: string; box_layout: "xyxy"; num_anchors: number;
    locations?: string; classes?: string; num_detections?: string; label_offset: number;
    predictions?: string; layout: "features_first" | "anchors_first";
    box_units?: "pixels" | "normalized";
  };
  nms: {
    iou_threshold: number;
    score_threshold: number;
    max_detections: number;
    class_agnostic: boolean;
    pre_nms_top_k: number;
  };
  labels: string[];
  provenance: Record<string, unknown>;
}

export declare class Detector {
  readonly info: DetectorInfo;
  readonly spec: DetectorSpec;
  lastTimings: Timings | null;
  /** Detect objects; a TF.js Tensor3D [H, W, 3|4] is accepted too. */
  detect(input: ImageInput | object, options?: DetectOptions): Promise<Detection[]>;
  /** The model alone on a prepared [1, H, W, 3] input: the outputs detector.json names, in
   * its order (canonical: boxes [N*4], scores [N*C]). */
  runModel(input: Float32Array | Uint8Array | Int8Array): Promise<Float32Array[]>;
  dispose(): void;
}

export declare class WorkerDetector {
  readonly info: DetectorInfo;
  readonly spec: DetectorSpec;
  lastTimings: Timings | null;
  /** Several calls may be in flight; an ImageBitmap or VideoFrame passed in is transferred
   * (closed here); a video element is sent as its current VideoFrame. */
  detect(input: ImageInput, options?: DetectOptions): Promise<Detection[]>;
  runModel(input: Float32Array | Uint8Array | Int8Array):
    Promise<{ outputs: Float32Array[]; timings: { inference: number; readback: number } }>;
  /** Stops the workers. */
  dispose(): void;
}

/**
 * Load a detector from one export folder (or model file URL), or the fastest of several
 * exports of the same model (TF.js, TFLite, ONNX).
 */
export declare function load(exports: string | URL | Array<string | URL>,
  options?: LoadOptions): Promise<Detector>;

/** load() in Web Workers (the page stays responsive; frames are pipelined). */
export declare function loadInWorker(exports: string | URL | Array<string | URL>,
  options?: WorkerLoadOptions): Promise<WorkerDetector>;

/** Threads used when `threads` is not given: the cores, at most 4. */
export declare function defaultThreads(): number;

export interface Engine {
  name: EngineName;
  label: string;
  format: "tfjs" | "tflite" | "onnx";
  modelFile: string;
  backends: BackendName[];
  candidates: BackendName[];
}

export declare const ENGINES: readonly Engine[];
