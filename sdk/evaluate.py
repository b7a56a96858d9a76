"""COCO evaluation (pycocotools) of any detector that produces the canonical outputs.

The same code scores the Keras source model, every exported artifact and the runtimes, so
a ΔmAP between them measures the conversion, not a difference in evaluation.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from sdk.data import Dataset, load_image
from sdk.pipeline import Predict, outputs_to_pixels, to_pixels
from sdk.preprocess import Letterbox, preprocess
from sdk.spec import DetectorSpec, InputSpec, NmsSpec

# Low threshold and 100 detections per image: the settings COCO mAP is defined with.
EVAL_NMS = NmsSpec(iou_threshold=0.5, score_threshold=0.05, max_detections=100,
                   pre_nms_top_k=1000)
METRIC_NAMES = ("mAP", "mAP50", "mAP75", "AP_small", "AP_medium", "AP_large")
# AP at IoU 0.5 per COCO size bucket: says which objects an mAP@.5 target is lost on.
SIZE_AP50_NAMES = ("AP50_small", "AP50_medium", "AP50_large")

# A model as evaluation sees it (:data:`sdk.pipeline.Predict`): a batch of preprocessed
# inputs [B, H, W, 3] -> (boxes [B, N, 4], scores [B, N, C]).
RawFn = Predict


@dataclass(frozen=True)
class ImageDetections:
    """Final detections of one image in original pixels (xyxy)."""

    image_id: int
    boxes: np.ndarray
    scores: np.ndarray
    classes: np.ndarray


def _batches(dataset: Dataset, spec: InputSpec, size: int) -> Iterable[tuple[list, np.ndarray,
                                                                              list[Letterbox]]]:
    samples = list(dataset.samples)
    for start in range(0, len(samples), size):
        chunk = samples[start:start + size]
        prepared = [preprocess(load_image(s.image_path), spec) for s in chunk]
        yield chunk, np.concatenate([p[0] for p in prepared]), [p[1] for p in prepared]


def predict_dataset(raw_fn: RawFn, dataset: Dataset, spec: InputSpec, nms: NmsSpec = EVAL_NMS,
                    batch_size: int = 16, detector: DetectorSpec | None = None,
                    ) -> list[ImageDetections]:
    """Run ``raw_fn`` over every image and post-process with the runtime's pipeline.

    ``raw_fn`` returns canonical boxes and scores, or with ``detector`` the outputs of its
    ``outputs.kind`` (decoded as the runtime does, with ``nms``'s thresholds).
    """
    out: list[ImageDetections] = []
    for chunk, inputs, geoms in _batches(dataset, spec, batch_size):
        outputs = raw_fn(inputs)
        for i, (s, g) in enumerate(zip(chunk, geoms, strict=True)):
            if detector is None:
                found = to_pixels(outputs[0][i], outputs[1][i], g, nms)
            else:
                found = outputs_to_pixels([o[i] for o in outputs], detector, g,
                                          nms.score_threshold, nms.iou_threshold,
                                          nms.max_detections)
            out.append(ImageDetections(s.image_id, found.boxes, found.scores, found.classes))
    return out


def _coco_gt(dataset: Dataset) -> dict:
    images, anns = [], []
    for s in dataset.samples:
        images.append({"id": s.image_id, "width": s.width, "height": s.height})
        for box, label in zip(s.boxes, s.labels, strict=True):
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            anns.append({"id": len(anns) + 1, "image_id": s.image_id, "category_id": int(label) + 1,
                         "bbox": [float(box[0]), float(box[1]), w, h], "area": w * h,
                         "iscrowd": 0})
        # COCO crowd and VOC difficult objects: detections on them count neither as hits
        # nor as false positives (pycocotools' crowd rule).
        for box, label in zip(s.ignore_boxes, s.ignore_labels, strict=True):
            w, h = float(box[2] - box[0]), float(box[3] - box[1])
            anns.append({"id": len(anns) + 1, "image_id": s.image_id, "category_id": int(label) + 1,
                         "bbox": [float(box[0]), float(box[1]), w, h], "area": w * h,
                         "iscrowd": 1})
    cats = [{"id": i + 1, "name": n} for i, n in enumerate(dataset.classes)]
    return {"images": images, "annotations": anns, "categories": cats}


def coco_metrics(dataset: Dataset, detections: list[ImageDetections]) -> dict[str, float]:
    """mAP@[.5:.95], mAP@.5, mAP@.75, AP small/medium/large and AP@.5 small/medium/large,
    via pycocotools.

    Category ids are label index + 1 (COCO ids start at 1).
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    results = [
        {"image_id": d.image_id, "category_id": int(c) + 1, "score": float(sc),
         "bbox": [float(b[0]), float(b[1]), float(b[2] - b[0]), float(b[3] - b[1])]}
        for d in detections for b, sc, c in zip(d.boxes, d.scores, d.classes, strict=True)
    ]
    with contextlib.redirect_stdout(io.StringIO()):  # pycocotools prints progress chatter
        gt = COCO()
        gt.dataset = _coco_gt(dataset)
        gt.createIndex()
        if not results:
            return dict.fromkeys(METRIC_NAMES + SIZE_AP50_NAMES, 0.0)
        ev = COCOeval(gt, gt.loadRes(results), "bbox")
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    values = [*ev.stats[:6], *(_ap50(ev, area) for area in (1, 2, 3))]
    return {name: round(max(float(v), 0.0), 4)
            for name, v in zip(METRIC_NAMES + SIZE_AP50_NAMES, values, strict=True)}


def _ap50(ev, area_index: int) -> float:
    """AP at IoU 0.5, 100 detections, for one area range (-1 when it has no objects)."""
    precision = ev.eval["precision"][0, :, :, area_index, -1]  # [recall, class]
    valid = precision[precision > -1]
    return float(valid.mean()) if valid.size else -1.0


def keras_raw_fn(inference_model) -> RawFn:
    """Adapt a Keras inference model (dict outputs) to :data:`RawFn`."""
    import tensorflow as tf

    fn = tf.function(lambda x: inference_model(x, training=False), reduce_retracing=True)

    def run(inputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        out = fn(tf.constant(inputs))
        return out["boxes"].numpy(), out["scores"].numpy()

    return run


def evaluate_net(net, cfg, dataset: Dataset, batch_size: int = 16) -> dict[str, float]:
    """COCO metrics of an in-memory training model ``net`` built from ``cfg``."""
    from sdk.models import build_inference_model

    raw_fn = keras_raw_fn(build_inference_model(net, cfg))
    return coco_metrics(dataset, predict_dataset(raw_fn, dataset, cfg.input_spec,
                                                 batch_size=batch_size))


def evaluate_model(model, dataset: Dataset, batch_size: int = 16) -> dict[str, float]:
    """COCO metrics of a trained detector (``fast``, ``accurate`` or a run folder)."""
    from sdk.models.io import load_detector

    net, cfg, _ = load_detector(model)
    return evaluate_net(net, cfg, dataset, batch_size)
