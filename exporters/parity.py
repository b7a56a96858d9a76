"""The parity gate: no export is called good until it is compared with its source.

On the fixed probe set (:mod:`exporters.probes`), the artifact (in its real runtime, fed by
its own detector.json) and the source model (fed by the source's preprocessing) are
compared on

* raw outputs: max-abs error and cosine similarity of ``boxes`` and ``scores`` (box error
  judged on the anchors that can become detections);
* detections (reference post-processing, detector.json NMS): share of reference detections
  the artifact finds (same class, IoU >= 0.5) and vice versa, matched IoU, score deltas;
* with an evaluation split: ΔmAP@[.5:.95] in points (source minus artifact).

Verdict: with an evaluation split the ΔmAP budget decides, plus a cosine floor that only
a broken export (wrong normalization, swapped outputs) falls under; without one, the
raw-output and detection thresholds decide.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

import numpy as np

from exporters.formats.base import EXACT, HALF, LOW_BIT, Runner
from exporters.probes import ProbeSet
from exporters.source import ExportSource
from sdk.boxes import greedy_match
from sdk.data import Dataset
from sdk.evaluate import EVAL_NMS, coco_metrics, predict_dataset
from sdk.output_kinds import decode
from sdk.postprocess import RawDetections, postprocess
from sdk.spec import DetectorSpec, NmsSpec

MATCH_IOU = 0.5
EVAL_BATCH = 32  # one Node process per batch for TF.js


@dataclass(frozen=True)
class Budget:
    """Tolerances of one quantization class (ΔmAP in points of mAP@[.5:.95] x 100)."""

    max_delta_map: float
    min_cosine: float  # both outputs; with an evaluation split, only catches broken exports
    min_match: float  # recall and precision of detections vs the reference
    min_iou: float  # mean IoU of matched detections
    max_score_delta: float  # mean |score difference| of matched detections


DEFAULT_BUDGETS: dict[str, Budget] = {
    EXACT: Budget(max_delta_map=0.1, min_cosine=0.9999, min_match=0.99, min_iou=0.99,
                  max_score_delta=1e-3),
    HALF: Budget(max_delta_map=0.5, min_cosine=0.999, min_match=0.9, min_iou=0.95,
                 max_score_delta=0.02),
    LOW_BIT: Budget(max_delta_map=1.5, min_cosine=0.9, min_match=0.7, min_iou=0.85,
                    max_score_delta=0.05),
}


class Verdict(StrEnum):
    """The parity gate's verdict (its value is what parity.json and the tables show)."""

    PASS = "pass"
    FAIL = "fail"
    SKIPPED = "skipped"  # no runtime here: validated structurally only


@dataclass
class ParityReport:
    """Measurements and verdict of one artifact."""

    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)
    detections: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    budget: dict[str, float] = field(default_factory=dict)
    probes: str = ""
    runtime: str = ""

    @classmethod
    def skipped(cls, reason: str) -> ParityReport:
        """A report for an artifact whose runtime is not available here."""
        return cls(Verdict.SKIPPED, [reason])

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ParityReport:
        """The report read back from parity.json (:meth:`to_dict`)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        return cls(**{**values, "verdict": Verdict(data["verdict"])})

    @property
    def delta_map(self) -> float | None:
        """ΔmAP@[.5:.95] in points (source minus artifact), None without an eval split."""
        return self.metrics.get("delta_mAP")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (written as parity.json)."""
        return asdict(self)

    def summary(self) -> str:
        """One line: verdict and the reasons or the key numbers."""
        if self.verdict != Verdict.PASS:
            return f"{self.verdict}: " + "; ".join(self.reasons)
        raw = ", ".join(f"{k} cos {v['cosine']:.5f} max|d| {v['max_abs']:.2g}"
                        for k, v in self.raw.items())
        dmap = f"ΔmAP {self.delta_map:+.2f} pt" if self.delta_map is not None else ""
        return f"pass ({', '.join(part for part in (raw, dmap) if part)})"


def budget_for(budget_class: str, max_delta_map: float | None = None) -> Budget:
    """The default budget of a class, with the ΔmAP limit optionally overridden."""
    budget = DEFAULT_BUDGETS[budget_class]
    return budget if max_delta_map is None else replace(budget, max_delta_map=max_delta_map)


def _raw_stats(ref: tuple[np.ndarray, ...], art: tuple[np.ndarray, ...]) -> dict[str, Any]:
    """max-abs error and cosine similarity of each output (reported; cosine is judged).

    Box max-abs is not judged: after exp() in the box decoder, the boxes of anchors that
    never become detections can be huge, and their errors would drown the ones that matter.
    Box geometry is judged on the matched detections (IoU) instead.
    """
    stats: dict[str, Any] = {}
    for name, r, a in zip(("boxes", "scores"), ref, art, strict=True):
        if r.shape != a.shape:
            return {name: {"max_abs": float("inf"), "cosine": 0.0,
                           "error": f"shape {list(a.shape)} != reference {list(r.shape)}"}}
        r64, a64 = r.astype(np.float64).ravel(), a.astype(np.float64).ravel()
        denom = np.linalg.norm(r64) * np.linalg.norm(a64)
        cosine = float(r64 @ a64 / denom) if denom > 0 else float(np.allclose(r64, a64))
        stats[name] = {"max_abs": float(np.abs(r64 - a64).max()), "cosine": cosine}
    return stats


def match_detections(ref: RawDetections, art: RawDetections,
                     ) -> tuple[list[float], list[float]]:
    """Greedy same-class matching, best reference score first: (IoUs, |score deltas|)."""
    matches = greedy_match(ref.boxes, ref.classes, art.boxes, art.classes, MATCH_IOU,
                           ref_scores=ref.scores)
    return ([m.iou for m in matches],
            [abs(float(ref.scores[m.reference]) - float(art.scores[m.candidate]))
             for m in matches])


def _detection_stats(ref: tuple[np.ndarray, ...], art: tuple[np.ndarray, ...],
                     spec: DetectorSpec) -> dict[str, Any]:
    ious, deltas, n_ref, n_art = [], [], 0, 0
    for i, (rb, rs) in enumerate(zip(*ref, strict=True)):
        # The artifact's outputs are decoded per its detector.json, as the runtime does.
        r = postprocess(rb, rs, spec.nms)
        a = decode([o[i] for o in art], spec.outputs, spec.num_classes, spec.input.size,
                   spec.nms)
        i, d = match_detections(r, a)
        ious += i
        deltas += d
        n_ref, n_art = n_ref + len(r.boxes), n_art + len(a.boxes)
    return {"reference": n_ref, "artifact": n_art, "matched": len(ious),
            "recall": len(ious) / n_ref if n_ref else 1.0,
            "precision": len(ious) / n_art if n_art else 1.0,
            "mean_iou": float(np.mean(ious)) if ious else 1.0,
            "mean_score_delta": float(np.mean(deltas)) if deltas else 0.0,
            "max_score_delta": float(max(deltas)) if deltas else 0.0}


def source_metrics(source: ExportSource, dataset: Dataset, nms: NmsSpec = EVAL_NMS,
                   ) -> dict[str, float]:
    """COCO metrics of the source model on ``dataset`` (computed once per source and NMS)."""
    key = f"metrics:{dataset.root}:{dataset.split}" + ("" if nms == EVAL_NMS else f":{nms}")
    return source.memo(key, lambda: coco_metrics(
        dataset, predict_dataset(source.reference, dataset, source.spec.input, nms,
                                 batch_size=EVAL_BATCH)))


def _map_stats(runner: Runner, spec: DetectorSpec, source: ExportSource,
               dataset: Dataset) -> dict[str, Any]:
    # A post-NMS artifact (outputs.kind detections) applied detector.json's thresholds in
    # the model: the source is scored with the same ones, not COCO's.
    nms = EVAL_NMS if spec.outputs.kind == "canonical" else spec.nms
    ref = source_metrics(source, dataset, nms)
    art = coco_metrics(dataset, predict_dataset(runner.run, dataset, spec.input, nms,
                                                detector=spec,
                                                batch_size=EVAL_BATCH))
    return {"split": f"{dataset.root.name}/{dataset.split}", "images": len(dataset.samples),
            "source": ref, "artifact": art,
            "delta_mAP": round(100 * (ref["mAP"] - art["mAP"]), 3)}


def _judge(raw: dict, det: dict, metrics: dict, budget: Budget) -> list[str]:
    reasons = [f"{k} cosine {v['cosine']:.5f} < {budget.min_cosine}"
                for k, v in raw.items() if v["cosine"] < budget.min_cosine]
    if metrics:
        if metrics["delta_mAP"] > budget.max_delta_map:
            reasons.append(f"ΔmAP {metrics['delta_mAP']:.2f} pt > {budget.max_delta_map} pt")
        return reasons
    for key in ("recall", "precision"):
        if det[key] < budget.min_match:
            reasons.append(f"detection {key} {det[key]:.3f} < {budget.min_match}")
    if det["mean_iou"] < budget.min_iou:
        reasons.append(f"matched IoU {det['mean_iou']:.3f} < {budget.min_iou}")
    if det["mean_score_delta"] > budget.max_score_delta:
        reasons.append(f"mean score delta {det['mean_score_delta']:.3f} > "
                       f"{budget.max_score_delta}")
    return reasons


def check_parity(runner: Runner, spec: DetectorSpec, source: ExportSource, probes: ProbeSet,
                 budget: Budget, eval_set: Dataset | None = None) -> ParityReport:
    """Compare ``runner`` (fed per ``spec``) with ``source`` and judge against ``budget``."""
    ref = source.memo(f"reference:{probes.description}",
                      lambda: source.reference(probes.inputs(source.spec)))
    art = runner.run(probes.inputs(spec))
    # Post-NMS outputs have no raw counterpart in the source: judged on detections only.
    raw = _raw_stats(ref, art) if spec.outputs.kind == "canonical" else {}
    shape_errors = [f"{k}: {v['error']}" for k, v in raw.items() if "error" in v]
    if shape_errors:
        return ParityReport(Verdict.FAIL, shape_errors, raw, budget=asdict(budget),
                            probes=probes.description, runtime=runner.description)
    det = _detection_stats(ref, art, spec)
    metrics = _map_stats(runner, spec, source, eval_set) if eval_set is not None else {}
    reasons = _judge(raw, det, metrics, budget)
    return ParityReport(verdict=Verdict.FAIL if reasons else Verdict.PASS, reasons=reasons,
                        raw=raw, detections=det, metrics=metrics, budget=asdict(budget),
                        probes=probes.description, runtime=runner.description)
