"""``sdk import``: a source model + its import config -> ``<out>/saved_model/`` + ``detector.json``.

The imported SavedModel has the SDK's canonical contract (``serving_default``: ``images``
[1, H, W, 3] RGB NHWC, normalized as ``detector.json`` states -> ``boxes`` [1, N, 4]
normalized xyxy and activated ``scores`` [1, N, C]; docs/DESIGN.md section 3), so every
exporter and the parity gate take it as they take a trained detector. What the source does
differently happens in the graph: the channel reorder (RGB -> BGR), the NCHW transpose and
the decoding of its raw outputs (:mod:`importers.decoders`). The normalization needs no op:
detector.json states the source's mean/std in RGB order, so the runtime's
``(pixel - mean) / std`` already gives the source's input values.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from importers.config import ImportConfig, load_config
from importers.decoders import get_decoder
from importers.decoders.base import Decoder
from importers.errors import ImporterError, ImportSourceError
from importers.sources import Source, open_source
from sdk import __version__
from sdk.digests import file_sha256
from sdk.spec import SPEC_FILENAME, DetectorSpec, InputSpec, NmsSpec, OutputSpec

SAVED_MODEL_DIR = "saved_model"
SERVING_SIGNATURE = "serving_default"


@dataclass(frozen=True)
class ImportResult:
    """What ``sdk import`` wrote."""

    out: Path
    spec: DetectorSpec
    num_anchors: int
    seconds: float
    saved_model_bytes: int

    def row(self) -> dict[str, Any]:
        """One table/JSON row."""
        return {"model": self.spec.provenance.get("architecture"), "out": str(self.out),
                "decoder": self.spec.provenance.get("decoder"), "anchors": self.num_anchors,
                "classes": self.spec.num_classes, "seconds": round(self.seconds, 1),
                "saved_model_MB": round(self.saved_model_bytes / 1e6, 2)}


def import_model(source: str | Path, config: str | Path | ImportConfig, out: str | Path,
                 overwrite: bool = False) -> ImportResult:
    """Import ``source`` as ``config`` describes it into the folder ``out``.

    ``out`` is written all at once (:func:`sdk.atomic.atomic_dir`): on any failure nothing
    is left behind and an existing ``out`` is untouched.

    Raises:
        ImportConfigError: bad config, or a config that disagrees with the source.
        ImportSourceError: unreadable source, digest mismatch, missing tensor.
        DataError: ``out`` exists, is not empty, and ``overwrite`` is False.
    """
    from sdk.atomic import atomic_dir

    started = time.perf_counter()
    cfg = config if isinstance(config, ImportConfig) else load_config(config)
    decoder = get_decoder(cfg.decoder)(cfg.decoder_params, cfg.input.size, len(cfg.labels))
    src = open_source(source, cfg)
    num_anchors = decoder.check(src.shapes_of(decoder.tensor_names))
    spec = _spec(cfg, src, num_anchors)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        saved = tmp / SAVED_MODEL_DIR
        save_canonical(src, cfg, decoder, saved)
        _verify(saved, spec, num_anchors, batched=src.input_shape[0] is None)
        spec.save(tmp / SPEC_FILENAME)
        for file in cfg.licenses:
            shutil.copyfile(file, tmp / file.name)
    size = sum(p.stat().st_size for p in (Path(out) / SAVED_MODEL_DIR).rglob("*") if p.is_file())
    return ImportResult(Path(out), spec, num_anchors, time.perf_counter() - started, size)


def save_canonical(src: Source, cfg: ImportConfig, decoder: Decoder, saved: Path) -> None:
    """Trace input adaptation + source graph + decoder into one canonical SavedModel."""
    import tensorflow as tf

    h, w = cfg.input.size
    batch = src.input_shape[0]
    raw_fn = src.function(decoder.tensor_names)
    reverse, nchw = cfg.input.channel_order == "BGR", cfg.input.layout == "NCHW"

    def serve(images: tf.Tensor) -> dict[str, tf.Tensor]:
        x = tf.reverse(images, axis=[-1]) if reverse else images  # RGB -> the source's BGR
        x = tf.transpose(x, [0, 3, 1, 2]) if nchw else x
        boxes, scores = decoder.decode(raw_fn(x))
        return {"boxes": tf.identity(boxes, name="boxes"),
                "scores": tf.identity(scores, name="scores")}

    signature = [tf.TensorSpec([batch, h, w, 3], tf.float32, name="images")]
    module = tf.Module()
    module.serve = tf.function(serve, input_signature=signature)
    try:
        concrete = module.serve.get_concrete_function()
        tf.saved_model.save(module, str(saved), signatures={SERVING_SIGNATURE: concrete})
    except (ValueError, TypeError) as exc:
        raise ImporterError(f"{src.path}: building the canonical graph failed: {exc}") from exc


def _verify(saved: Path, spec: DetectorSpec, num_anchors: int, batched: bool) -> None:
    """Load the written SavedModel as the runtime does and run it once: shapes match the
    spec (the runtime's own contract check) and the outputs are finite and in range."""
    from sdk.preprocess import preprocess
    from sdk.probes import synthetic_probes
    from sdk.runtime.contract import RuntimeLoadError
    from sdk.runtime.savedmodel import SavedModelBackend

    try:
        backend = SavedModelBackend(saved, spec)
    except RuntimeLoadError as exc:
        raise ImporterError(f"the imported model breaks its own detector.json: {exc}") from exc
    inputs = [preprocess(image, spec.input)[0] for image in synthetic_probes(2)]
    boxes, scores = backend.run(inputs[0])
    anchors = num_anchors or boxes.shape[-2]  # 0: the source leaves N open
    if boxes.shape[-2:] != (anchors, 4) or not np.isfinite(boxes).all() \
            or not np.isfinite(scores).all() or scores.min() < 0 or scores.max() > 1:
        raise ImporterError(f"{saved}: the imported graph gives boxes {boxes.shape} and scores "
                            f"{scores.shape} in [{scores.min()}, {scores.max()}]; expected "
                            f"finite boxes [1, {anchors}, 4] and scores in [0, 1]")
    # The parity gate and evaluation run SavedModels on batches: a batch must give what its
    # images give one by one (a graph with a batch of 1 baked in would mix them up).
    if batched:
        together = backend.run(np.concatenate(inputs))
        alone = [(boxes, scores), backend.run(inputs[1])]
        same = together[0].shape[0] == 2 and all(
            np.allclose(batch[i:i + 1], one, atol=1e-4)
            for i, outputs in enumerate(alone)
            for batch, one in zip(together, outputs, strict=True))
        if not same:
            raise ImporterError(f"{saved}: a batch of 2 images does not give the outputs of "
                                f"each image alone; the source graph depends on its batch size")


def _spec(cfg: ImportConfig, src: Source, num_anchors: int) -> DetectorSpec:
    digests = src.digests
    combined = hashlib.sha256("".join(f"{k}\0{v}\n" for k, v in digests.items())
                              .encode()).hexdigest()
    inp = cfg.input
    try:
        nms = NmsSpec(**cfg.nms)
    except TypeError as exc:  # pragma: no cover - keys are checked by load_config
        raise ImportSourceError(f"{cfg.path}: nms: {exc}") from exc
    return DetectorSpec(
        input=InputSpec(size=inp.size, resize=inp.resize, pad_value=inp.pad_value,
                        channel_order="RGB", layout="NHWC", mean=inp.rgb_mean, std=inp.rgb_std),
        labels=cfg.labels, outputs=OutputSpec(num_anchors=num_anchors), nms=nms,
        provenance={"architecture": cfg.name, **({"title": cfg.title} if cfg.title else {}),
                    "source": str(src.path),
                    "source_weights_sha256": combined, "imported_from": src.kind,
                    "decoder": cfg.decoder,
                    **{f"source_{k}": v for k, v in cfg.provenance.items()},
                    "source_sha256": digests, "import_config": cfg.path.name,
                    "import_config_sha256": file_sha256(cfg.path),
                    "licenses": [p.name for p in cfg.licenses],
                    "sdk_version": __version__,
                    "import_date": datetime.now(UTC).isoformat(timespec="seconds")})
