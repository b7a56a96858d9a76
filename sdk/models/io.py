"""Saving and loading trained detectors: a folder with ``config.json`` + ``model.weights.h5``.

``fast`` and ``accurate`` name the bundled defaults shipped in ``sdk/weights/``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sdk.digests import file_sha256
from sdk.models.config import ConfigError, DetectorConfig

if TYPE_CHECKING:  # pragma: no cover
    import keras

BUNDLED_DIR = Path(__file__).resolve().parent.parent / "weights"
BUNDLED = ("fast", "accurate")
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"
CARD_FILE = "model_card.json"


class ModelNotFoundError(FileNotFoundError):
    """A model name or path does not point at a trained detector folder."""


def resolve_model_dir(model: str | Path,
                      required: tuple[str, ...] = (CONFIG_FILE, WEIGHTS_FILE)) -> Path:
    """``fast``/``accurate`` -> bundled folder; otherwise a run folder holding ``required``
    (by default config and weights; tools that read only the config ask for less)."""
    if str(model) in BUNDLED and not Path(model).exists():
        path = BUNDLED_DIR / str(model)
    else:
        path = Path(model)
    missing = [f for f in required if not (path / f).is_file()]
    if missing:
        raise ModelNotFoundError(
            f"{path}: not a trained detector folder (missing {', '.join(missing)}); pass "
            f"'fast', 'accurate' or a folder written by 'sdk train'")
    return path


def weights_sha256(model_dir: Path) -> str:
    """sha256 of the weights file: the identity recorded in every export's provenance."""
    return file_sha256(model_dir / WEIGHTS_FILE)


def load_detector(model: str | Path) -> tuple[keras.Model, DetectorConfig, Path]:
    """Rebuild the training model from its config and load the trained weights."""
    from sdk.models import build_training_model

    path = resolve_model_dir(model)
    try:
        cfg = DetectorConfig.load(path / CONFIG_FILE)
    except ConfigError as exc:  # names the file and the field
        raise ModelNotFoundError(f"invalid detector config: {exc}") from exc
    net = build_training_model(cfg)
    try:
        net.load_weights(path / WEIGHTS_FILE)
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"{path / WEIGHTS_FILE}: cannot load weights ({exc})") from exc
    return net, cfg, path


def save_detector(out: Path, net: keras.Model, cfg: DetectorConfig,
                  card: dict[str, Any] | None = None) -> Path:
    """Write config, weights and model card into ``out`` atomically (temp folder + rename)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}."))
    try:
        cfg.save(tmp / CONFIG_FILE)
        net.save_weights(tmp / WEIGHTS_FILE)
        if card is not None:
            (tmp / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n")
        out.mkdir(exist_ok=True)
        for f in tmp.iterdir():  # merge into out (which may hold checkpoints) file by file
            os.replace(f, out / f.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out
