"""The ``mediapipe`` export: a ``.tflite`` ending in ``TFLite_Detection_PostProcess`` with
object-detector TFLite Metadata, run as-is by the real clients (MediaPipe Tasks and the
TFLite Task Library, each in its own venv, see the Makefile) and by ``sdk.load``.

The clients are compared with ``sdk.load`` running the same file on the same pixels: the
probe scenes letterboxed by the SDK to the model's square input (MediaPipe stretches a
non-square image where the SDK letterboxes). ``sdk.load`` gets them at the input size (no
resize). The clients report boxes as whole pixels (truncated), which costs a small box up
to ~0.8 IoU at 320 px, so they get the same images upscaled 3x by pixel repetition: their
resize back to the input is then exact (the scores are the same as at 320 px) and their
boxes, divided by 3, are within 1/3 px.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import sdk
from exporters.errors import ExportError
from exporters.export import ExportResult, export
from exporters.formats.base import LOW_BIT
from exporters.formats.mediapipe import detection_op, metadata
from exporters.parity import DEFAULT_BUDGETS, MATCH_IOU
from sdk.boxes import greedy_match
from sdk.preprocess import resize_to_input
from sdk.probes import synthetic_probes
from sdk.spec import DetectorSpec, InputSpec, NmsSpec
from tests.exporters.mediapipe_clients import run_client

QUANTS = ("fp32", "int8")
MIN_IOU, MAX_SCORE_DELTA = 0.9, 0.02
MIN_DETECTIONS = 20  # over the 8 probes: the comparison must see many boxes of many classes
MIN_CLASSES = 4
UPSCALE = 3  # pixel repetition for the clients (see the module docstring)


@pytest.fixture(scope="module")
def mediapipe_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ExportResult]:
    """The bundled Fast exported as ``mediapipe`` fp32 and int8 (its own calibration)."""
    root = tmp_path_factory.mktemp("mediapipe-exports")
    return {q: export("fast", "mediapipe", q, out_root=root) for q in QUANTS}


@pytest.fixture(scope="module")
def square_images(mediapipe_exports, tmp_path_factory: pytest.TempPathFactory,
                  ) -> tuple[np.ndarray, Path]:
    """The probes letterboxed to the model input ([8, 320, 320, 3] uint8), and the .npy
    of the same images upscaled :data:`UPSCALE` x by pixel repetition, for the clients."""
    spec = mediapipe_exports["fp32"].spec
    images = np.stack([resize_to_input(p, spec.input)[0] for p in synthetic_probes()])
    path = tmp_path_factory.mktemp("mediapipe-images") / "probes-upscaled.npy"
    np.save(path, images.repeat(UPSCALE, axis=1).repeat(UPSCALE, axis=2))
    return images, path


def agreement(result: ExportResult, client_found: list[list[dict]], images: np.ndarray,
              min_iou: float) -> dict[str, float]:
    """A client's detections (on the upscaled images) against ``sdk.load``'s on the same
    file and images, matched by label at ``min_iou``: counts, IoUs and |score deltas|."""
    detector = sdk.load(result.out_dir)
    ious, deltas, ours_n, theirs_n, same_count, classes = [], [], 0, 0, True, set()
    for image, theirs in zip(images, client_found, strict=True):
        ours = detector.detect(image)
        matches = greedy_match([d.box for d in ours], [d.label for d in ours],
                               [np.divide(d["box"], UPSCALE) for d in theirs],
                               [d["label"] for d in theirs],  # Category.index is None
                               min_iou, ref_scores=[d.score for d in ours])
        ious += [m.iou for m in matches]
        deltas += [abs(ours[m.reference].score - theirs[m.candidate]["score"])
                   for m in matches]
        ours_n, theirs_n = ours_n + len(ours), theirs_n + len(theirs)
        same_count &= len(ours) == len(theirs)
        classes |= {d.label for d in ours}
    assert ours_n >= MIN_DETECTIONS and len(classes) >= MIN_CLASSES, (ours_n, classes)
    return {"sdk_load": ours_n, "client": theirs_n, "matched": len(ious),
            "same_count_per_image": same_count, "min_iou": min(ious),
            "mean_iou": float(np.mean(ious)), "max_score_delta": max(deltas),
            "mean_score_delta": float(np.mean(deltas))}


def test_op_options_come_from_detector_json():
    spec = DetectorSpec(input=InputSpec(size=(64, 64)), labels=("a", "b", "c"),
                        nms=NmsSpec(iou_threshold=0.45, score_threshold=0.25,
                                    max_detections=37, class_agnostic=False))
    options = detection_op.OpOptions.from_spec(spec)
    assert (options.max_detections, options.num_classes, options.use_regular_nms) == (37, 3,
                                                                                       True)
    assert (options.nms_iou_threshold, options.nms_score_threshold) == (0.45, 0.25)
    text = options.implements()
    assert text.startswith('name: "TFLite_Detection_PostProcess"')
    assert 'attr { key: "max_detections" value { i: 37 } }' in text
    assert 'attr { key: "use_regular_nms" value { b: true } }' in text


def test_a_missing_tflite_support_venv_says_how_to_make_it(monkeypatch, tmp_path: Path):
    monkeypatch.setenv(metadata.PYTHON_ENV, str(tmp_path / "nowhere" / "python"))
    with pytest.raises(ExportError, match=r"SDK_TFLITE_SUPPORT_PYTHON=.*make setup"):
        metadata.tflite_support_python()


@pytest.mark.slow
@pytest.mark.parametrize("dropped", [None, "max_detections"])
def test_an_annotation_missing_an_attribute_fuses_nothing_and_is_refused(dropped: str | None):
    """The converter's silent trap: without a required attribute it "succeeds" with
    constant outputs and no op; the full annotation (the control) fuses the op."""
    import tensorflow as tf

    options = detection_op.OpOptions(max_detections=5, num_classes=2, nms_score_threshold=0.3,
                                     nms_iou_threshold=0.5)
    text = options.implements()
    if dropped:
        text = text.replace(f'attr {{ key: "{dropped}" value {{ i: 5 }} }} ', "")
        assert dropped not in text

    @tf.function(experimental_implements=text)
    def postprocess(box_encodings, class_predictions, anchors):
        zero = tf.constant(0.0)
        return zero, zero, zero, zero

    @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 3], tf.float32)])
    def detect(images):
        cells = tf.reshape(tf.nn.avg_pool2d(images, 4, 4, "VALID"), [1, 4, 3])
        encodings = tf.concat([cells[..., :2] * 0.0 + 0.5, cells[..., :2] * 0.0 - 1.0], -1)
        anchors = tf.tile(tf.constant([[0.0, 0.0, 1.0, 1.0]]), [4, 1])
        found = postprocess(encodings, tf.sigmoid(cells[..., :2]), anchors)[::-1]
        return dict(zip(reversed(detection_op.OP_OUTPUTS), found, strict=True))

    module = tf.Module()  # the annotated function must be reachable from the trackable
    module.detect = detect
    converter = tf.lite.TFLiteConverter.from_concrete_functions(
        [detect.get_concrete_function()], module)
    converter.allow_custom_ops = True
    data = converter.convert()
    if dropped is None:
        assert detection_op.check_op(data, options)["max_detections"] == 5
        return
    assert detection_op.op_options(data) is None
    with pytest.raises(ExportError, match="did not fuse TFLite_Detection_PostProcess"):
        detection_op.check_op(data, options)


@pytest.mark.slow
@pytest.mark.parametrize("quantization", QUANTS)
def test_the_export_ends_in_the_op_with_detector_json_options(mediapipe_exports,
                                                              quantization: str):
    result = mediapipe_exports[quantization]
    assert result.status == "ok", result.parity.reasons
    spec = DetectorSpec.load(result.out_dir)
    data = result.artifact.read_bytes()
    found = detection_op.op_options(data)
    assert found["max_detections"] == spec.nms.max_detections == 100  # not the op's 10
    assert found["use_regular_nms"] == 1 and not spec.nms.class_agnostic
    assert found["num_classes"] == len(spec.labels)
    assert found["nms_iou_threshold"] == pytest.approx(spec.nms.iou_threshold)
    assert found["nms_score_threshold"] == pytest.approx(spec.nms.score_threshold)
    # detector.json names the op's real outputs (not the model's output order)
    assert spec.outputs.kind == "detections"
    assert detection_op.output_names(data) == {
        role: getattr(spec.outputs, role) for role in detection_op.OP_OUTPUTS}
    assert metadata.packed_files(result.artifact) == ["detector.json", "labels.txt"]
    assert metadata.has_tflite_metadata(result.artifact)
    assert spec.provenance["converters"]["tflite-support"] == "0.4.4"
    if quantization == "int8":
        assert spec.provenance["quantization"] in ("int8", "int8_float_head")


@pytest.mark.slow
@pytest.mark.parametrize("client", ["mediapipe", "task_library"])
@pytest.mark.parametrize("quantization", QUANTS)
def test_the_real_client_agrees_with_sdk_load(mediapipe_exports, square_images, client: str,
                                              quantization: str):
    """fp32: the same detections (every box at IoU >= 0.9, |score delta| <= 0.02). int8: the
    parity gate's int8 budget, since int8 kernels round differently from one TFLite build to
    the next (LiteRT 2.3 here, the clients' own builds there): measured, mean |score delta|
    ~0.01, max ~0.13 on a score near the threshold, and one extra box at 0.35."""
    result = mediapipe_exports[quantization]
    images, path = square_images
    out = run_client(client, result.artifact, path, result.spec.nms.score_threshold)
    if quantization == "fp32":
        figures = agreement(result, out["detections"], images, MIN_IOU)
        assert figures["same_count_per_image"], figures
        assert figures["matched"] == figures["sdk_load"] == figures["client"], figures
        assert figures["max_score_delta"] <= MAX_SCORE_DELTA, figures
    else:
        budget = DEFAULT_BUDGETS[LOW_BIT]
        figures = agreement(result, out["detections"], images, MATCH_IOU)
        assert figures["matched"] >= budget.min_match * figures["sdk_load"], figures
        assert figures["matched"] >= budget.min_match * figures["client"], figures
        assert figures["mean_iou"] >= budget.min_iou, figures
        assert figures["mean_score_delta"] <= budget.max_score_delta, figures
    print(f"{client} {out['version']} {quantization}: {figures}")
