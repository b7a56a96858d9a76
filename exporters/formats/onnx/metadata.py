"""``detector.json`` inside a ``.onnx`` file: the model's ``metadata_props`` entry.

``metadata_props`` is ONNX's own list of string key/value pairs: ONNX Runtime returns it as
``InferenceSession.get_modelmeta().custom_metadata_map`` (what ``sdk.load`` reads when no
``detector.json`` lies beside the model), ``onnx.load(path).metadata_props`` and model
viewers such as Netron show it. The key is :data:`sdk.runtime.onnx.METADATA_KEY`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sdk.runtime.onnx import METADATA_KEY


def embed_json(path: Path, text: str) -> None:
    """Store ``text`` under :data:`METADATA_KEY`, replacing a previous entry."""
    import onnx

    model = onnx.load(str(path))
    kept = [p for p in model.metadata_props if p.key != METADATA_KEY]
    del model.metadata_props[:]
    model.metadata_props.extend(kept)
    model.metadata_props.add(key=METADATA_KEY, value=text)
    tmp = path.with_name(path.name + ".tmp")
    onnx.save(model, str(tmp))
    tmp.replace(path)


def read_json(path: Path) -> dict[str, Any] | None:
    """The JSON of the ``metadata_props`` entry :data:`METADATA_KEY`, None when absent."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    text = next((p.value for p in model.metadata_props if p.key == METADATA_KEY), None)
    return None if text is None else json.loads(text)
