"""``sdk train``: dataset + architecture -> a trained detector folder with a model card."""

from __future__ import annotations

import json
import platform
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdk import __version__
from sdk.data import load_dataset
from sdk.models import build_training_model, default_config
from sdk.models.config import DetectorConfig
from sdk.models.io import CARD_FILE, CONFIG_FILE, WEIGHTS_FILE, save_detector
from sdk.train.distribute import DeviceOptions, is_chief
from sdk.train.loop import Checkpointer, TrainOptions, train_loop

if TYPE_CHECKING:  # pragma: no cover
    from sdk.models.transfer import InitSource


def _card(arch: str, data_dir: Path, opts: TrainOptions, state: dict[str, Any], seconds: float,
          fingerprint: str, metrics: dict[str, Any], params: int) -> dict[str, Any]:
    card = {
        "arch": arch, "command": " ".join(["sdk", *sys.argv[1:]]) if sys.argv else "",
        "sdk_version": __version__, "dataset": str(data_dir), "dataset_sha256": fingerprint,
        "options": opts.__dict__, "train_seconds": round(seconds, 1), "parameters": params,
        "machine": f"{platform.machine()} {platform.processor() or ''} python "
                   f"{platform.python_version()}".strip(),
        "history": state["history"], "metrics": metrics,
    }
    if state.get("init"):  # what the weights started from: --init / --backbone-weights
        card["init"] = state["init"]
    if state.get("devices"):
        card["devices"] = state["devices"]
    return card


def train_detector(arch: str | None, data_dir: Path, out: Path, opts: TrainOptions,
                   resume: bool = False, input_size: int | None = None,
                   backbone_weights: str | None = None, eval_split: str | None = "val",
                   progress: Any = None, on_epoch: Any = None, init: str | None = None,
                   devices: DeviceOptions | None = None) -> dict[str, Any]:
    """Train ``arch`` on ``data_dir`` into ``out``; returns the model card.

    ``init`` (a bundled model name, run folder or weights file) starts from trained weights
    (:mod:`sdk.models.transfer`); ``arch`` None then means the source's architecture.
    ``backbone_weights`` (``"imagenet"`` or a local file) starts the backbone only.
    ``devices`` says where to run (:mod:`sdk.train.distribute`)."""
    from sdk.models.transfer import InitError, init_config, resolve_init

    devices = devices or DeviceOptions()
    strategy = None
    if devices.distribute == "multiworker":  # must exist before TensorFlow runs any op
        from sdk.train.distribute import make_strategy

        strategy = make_strategy("multiworker")
    if init and backbone_weights:
        raise InitError("--init and --backbone-weights both choose the starting weights; "
                        "pass one")
    train_set = load_dataset(data_dir, "train")
    source = resolve_init(init) if init else None
    if source is not None:
        cfg = init_config(source, arch, train_set.classes, input_size)
    else:
        overrides: dict[str, Any] = {"backbone_weights": backbone_weights}
        if input_size:
            overrides["input_size"] = input_size
        cfg = default_config(arch or "fast", train_set.classes, **overrides)
    fingerprint = train_set.fingerprint()
    done = finished_card(out, cfg, opts, fingerprint, eval_split, init) if resume else None
    if done is not None:
        return done
    out.mkdir(parents=True, exist_ok=True)
    cfg.save(out / CONFIG_FILE)  # a checkpoint is only usable with the config beside it
    net = build_training_model(cfg)
    start = None
    if not (resume and Checkpointer(out).exists()):  # a checkpoint holds newer weights
        start = _start_weights(net, cfg, source, backbone_weights)
    state = train_loop(net, cfg, train_set, out, opts, resume=resume, progress=progress,
                       on_epoch=on_epoch, start=start, devices=devices, strategy=strategy)
    if strategy is not None and not is_chief(strategy):
        return _card(cfg.arch, data_dir, opts, state, 0.0, fingerprint, {}, net.count_params())
    metrics: dict[str, Any] = {}
    if eval_split:
        from sdk.evaluate import evaluate_net

        metrics = {eval_split: evaluate_net(net, cfg, load_dataset(data_dir, eval_split))}
    seconds = sum(row["seconds"] for row in state["history"])  # across resumed runs too
    card = _card(cfg.arch, data_dir, opts, state, seconds, fingerprint, metrics,
                 net.count_params())
    save_detector(out, net, cfg, card=card)
    return card


def _start_weights(net, cfg: DetectorConfig, source: InitSource | None,
                   backbone_weights: str | None) -> dict[str, Any] | None:
    """Load the starting weights into the fresh ``net``; the record for the model card."""
    from sdk.models.transfer import init_from, load_backbone_weights

    if source is not None:
        return init_from(net, cfg, source)
    if backbone_weights:
        return load_backbone_weights(net, cfg, backbone_weights)
    return None


def finished_card(out: Path, cfg: DetectorConfig, opts: TrainOptions, fingerprint: str,
                  eval_split: str | None, init: str | None = None) -> dict[str, Any] | None:
    """The model card in ``out`` if that run already finished with this config, options and data.

    Resuming a finished run then changes nothing. Without this, ``make weights`` on a
    finished run folder would re-estimate batch norm and rewrite the bundled weights.
    """
    files = (out / CARD_FILE, out / CONFIG_FILE, out / WEIGHTS_FILE)
    if not all(f.is_file() for f in files):
        return None
    try:
        card = json.loads(files[0].read_text())
        same_config = DetectorConfig.load(files[1]) == cfg
    except (OSError, ValueError, KeyError, TypeError):  # unreadable: train as usual
        return None
    finished = (same_config and card.get("options") == asdict(opts)
                and card.get("dataset_sha256") == fingerprint
                and len(card.get("history", [])) == opts.epochs
                and (card.get("init") or {}).get("from") == init
                and (eval_split is None or eval_split in card.get("metrics", {})))
    return card if finished else None
