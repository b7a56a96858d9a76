"""Class-name files: YOLO ``data.yaml`` and one-name-per-line ``classes.txt``/``labels.txt``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sdk.data.errors import data_error
from sdk.data.layout import match_split


def read_class_list(path: Path) -> list[str]:
    """Read one class name per non-empty line.

    Raises:
        DataError: the file is empty or names a class twice.
    """
    names = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    return _checked([n for n in names if n], path)


def _checked(names: list[str], path: Path) -> list[str]:
    """Reject empty or duplicated class lists."""
    if not names:
        raise data_error(path, None, "no class names")
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise data_error(path, f"class {i} '{name}'", "duplicate class name")
        seen.add(name)
    return names


def read_data_yaml(path: Path) -> list[str]:
    """Return the class names of a YOLO ``data.yaml`` (``names`` as a list or an id map).

    Raises:
        DataError: the file is not valid YAML, ``names`` is missing, or disagrees with ``nc``.
    """
    return yaml_class_names(read_yaml(path), path)


def read_yaml(path: Path) -> dict[str, Any]:
    """Parse a YAML mapping with PyYAML when installed, else the small subset YOLO uses.

    Raises:
        DataError: the file is not valid YAML or not a mapping; names the line when known.
    """
    text = path.read_text(encoding="utf-8")
    try:
        import yaml
    except ImportError:  # optional: the SDK core does not depend on PyYAML
        doc = parse_simple_yaml(text, path)
    else:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark is not None else None
            raise data_error(path, where, f"invalid YAML ({exc})") from exc
    if not isinstance(doc, dict):
        raise data_error(path, None, "top level must be a mapping of 'key: value' lines")
    return doc


def yaml_class_names(doc: dict[str, Any], path: Path) -> list[str]:
    """Return the ``names`` of a parsed data.yaml, checked against ``nc``.

    Raises:
        DataError: ``names`` is missing or malformed, or disagrees with ``nc``.
    """
    if "names" not in doc:
        raise data_error(path, "'names'", "missing class names")
    names = _names(doc["names"], path)
    nc = doc.get("nc")
    if nc is not None and not isinstance(nc, int):
        raise data_error(path, "'nc'", f"must be a whole number, got {nc!r}")
    if nc is not None and nc != len(names):
        raise data_error(path, "'nc'", f"nc is {nc} but {len(names)} names are given")
    return _checked(names, path)


def _names(value: Any, path: Path) -> list[str]:
    """Turn a ``names`` value (list or ``{id: name}``) into an ordered list."""
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, dict):
        try:
            by_id = {int(k): str(v) for k, v in value.items()}
        except ValueError as exc:
            raise data_error(path, "'names'", "map keys must be class ids") from exc
        if sorted(by_id) != list(range(len(by_id))):
            raise data_error(path, "'names'", f"ids must be 0..{len(by_id) - 1}, "
                                              f"got {sorted(by_id)}")
        return [by_id[i] for i in range(len(by_id))]
    raise data_error(path, "'names'", f"must be a list or a map, got {value!r}")


def parse_simple_yaml(text: str, path: Path) -> dict[str, Any]:
    """Parse top-level ``key: scalar``, flow ``[a, b]``/``{0: a}`` and block lists/maps."""
    doc: dict[str, Any] = {}
    key: str | None = None
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw).rstrip()
        if not line.strip():
            continue
        if not line[0].isspace() and not line.startswith("- "):
            key, sep, value = line.partition(":")
            if not sep:
                raise data_error(path, f"line {number}", f"expected 'key: value', got {raw!r}")
            key = key.strip()
            doc[key] = _value(value.strip()) if value.strip() else None
        elif key is not None:
            doc[key] = _block_item(doc[key], line.strip())
    return doc


def _strip_comment(line: str) -> str:
    """Drop a ``#`` comment that is not inside quotes."""
    quote = None
    for i, char in enumerate(line):
        if char in "'\"" and quote in (None, char):
            quote = None if quote else char
        elif char == "#" and quote is None and (i == 0 or line[i - 1].isspace()):
            return line[:i]
    return line


def _block_item(current: Any, item: str) -> Any:
    """Add an indented ``- value`` or ``id: value`` line to the value of the last key."""
    if item.startswith("- "):
        return [*(current if isinstance(current, list) else []), _scalar(item[2:].strip())]
    sub, sep, value = item.partition(":")
    if not sep:
        return current
    mapping = current if isinstance(current, dict) else {}
    mapping[_scalar(sub.strip())] = _value(value.strip()) if value.strip() else None
    return mapping


def _value(text: str) -> Any:
    """Parse a flow list, flow map or scalar."""
    if text.startswith("[") and text.endswith("]"):
        return [_scalar(v) for v in _flow_items(text[1:-1])]
    if text.startswith("{") and text.endswith("}"):
        pairs = (item.partition(":") for item in _flow_items(text[1:-1]))
        return {_scalar(k.strip()): _scalar(v.strip()) for k, _, v in pairs}
    return _scalar(text)


def _flow_items(body: str) -> list[str]:
    """Split a flow collection body on commas outside quotes (quotes are kept)."""
    items, current, quote = [], [], None
    for char in body:
        if quote is None and char == ",":
            items.append("".join(current).strip())
            current = []
            continue
        if char in "'\"" and quote in (None, char):
            quote = None if quote else char
        current.append(char)
    items.append("".join(current).strip())
    return [item for item in items if item]


def _scalar(text: str) -> Any:
    """Unquote strings, turn integer-looking text into int."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        inner = text[1:-1]
        return inner.replace("''", "'") if text[0] == "'" else inner.replace('\\"', '"')
    try:
        return int(text)
    except ValueError:
        return text


def format_data_yaml(classes: list[str] | tuple[str, ...], splits: list[str],
                     folder: str = "{split}/images") -> str:
    """Render a ``data.yaml`` with split paths relative to its folder (Ultralytics-style keys).

    ``folder`` spells the image folder of a split: ``{split}/images`` (Roboflow) or
    ``images/{split}`` (Ultralytics). No ``path:`` key: Ultralytics then resolves the split
    paths against the folder of the yaml, wherever the dataset is moved.
    """
    quoted = ", ".join("'" + name.replace("'", "''") + "'" for name in classes)
    lines, used = [], set()
    for split in splits:
        # Ultralytics reads only train/val/test: "valid" and "train2017" go under those keys.
        key = next((k for k in ("train", "val", "test")
                    if k not in used and match_split(k, [split]) == split), split)
        used.add(key)
        lines.append(f"{key}: {folder.format(split=split)}")
    return "\n".join([*lines, "", f"nc: {len(classes)}", f"names: [{quoted}]", ""])
