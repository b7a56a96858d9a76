"""The short README written into every export folder: what it is and how to load it."""

from __future__ import annotations

from typing import Any

from sdk.spec import DetectorSpec

_PYTHON = """\
## Python

```python
import sdk

detector = sdk.load("{folder}")        # reads detector.json, picks the runtime
detections = detector.detect("photo.jpg")  # a path, PIL image or HxWx3 uint8 RGB array
```
"""

def readme_text(folder: str, spec: DetectorSpec, files: list[str], parity: str,
                notes: list[str], usage: str = "", python: bool = True) -> str:
    """Markdown for ``folder``: contents, provenance, parity verdict, loading snippets.

    ``usage`` is the format's own loading section (a template with ``{url}``, ``{input}``
    and ``{pad}``);
    ``python`` says whether ``sdk.load`` runs this format.
    """
    prov: dict[str, Any] = spec.provenance
    h, w = spec.input.size
    lines = [
        f"# {folder}", "",
        f"{prov.get('architecture', 'detector')} detector exported to **{prov.get('format')}** "
        f"({prov.get('quantization')}) by sdk {prov.get('sdk_version')} on "
        f"{prov.get('export_date')}.", "",
        f"* input: {h}x{w} {spec.input.channel_order} {spec.input.resize} "
        f"(pad {spec.input.pad_value}), (pixel - {list(spec.input.mean)}) / "
        f"{list(spec.input.std)}, dtype {spec.input.dtype}",
        _outputs_line(spec),
        f"* labels: {', '.join(spec.labels)}",
        f"* source weights sha256: `{prov.get('source_weights_sha256')}`",
        f"* parity gate: {parity}",
        *(f"* note: {n}" for n in notes),
        f"* files: {', '.join(files)} (and `detector.json`, the contract every runtime reads)",
        "",
    ]
    if python:
        lines.append(_PYTHON.format(folder=folder))
    if usage:
        lines.append(usage.format(url=f"/exports/{folder}", input=spec.input.name,
                                  pad=spec.input.pad_value))
    return "\n".join(lines)


def _outputs_line(spec: DetectorSpec) -> str:
    out = spec.outputs
    if out.kind == "detections":
        return (f"* outputs (after NMS): `{out.locations}` [1, N, 4] normalized ymin, xmin, ymax, "
                f"xmax, `{out.classes}` [1, N] label index, `{out.scores}` [1, N], "
                f"`{out.num_detections}` [1]")
    return (f"* outputs: `{out.boxes}` [1, N, 4] normalized xyxy, `{out.scores}` "
            f"[1, N, {spec.num_classes}] activated")
