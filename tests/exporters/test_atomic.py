"""Export folders appear whole or not at all; nothing is overwritten without force."""

from __future__ import annotations

from pathlib import Path

import pytest

from exporters.errors import OutputExistsError
from exporters.export import ExportJob, export, prepare
from exporters.formats.savedmodel import SavedModelFormat
from sdk.spec import SPEC_FILENAME


@pytest.mark.slow
@pytest.mark.parametrize("error", [RuntimeError("disk full"), KeyboardInterrupt()])
def test_failure_midway_leaves_nothing(source, tmp_path: Path, monkeypatch, error):
    def fail(self, artifact, spec):
        raise error

    monkeypatch.setattr(SavedModelFormat, "embed_metadata", fail)  # after conversion
    with pytest.raises(type(error)):
        export(source, "savedmodel", out_root=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_refused_before_any_work(confident_fast: Path, tmp_path: Path):
    dest = tmp_path / "fast-tflite-fp32"
    dest.mkdir()
    (dest / "mine.txt").write_text("keep me")
    with pytest.raises(OutputExistsError, match="pass --force"):
        prepare(ExportJob(confident_fast, "tflite", None, tmp_path))
    assert (dest / "mine.txt").read_text() == "keep me"


@pytest.mark.slow
def test_force_replaces_the_whole_folder(source, tmp_path: Path):
    dest = tmp_path / f"{source.name}-savedmodel-fp32"
    dest.mkdir()
    (dest / "stale.txt").write_text("old export")
    with pytest.raises(OutputExistsError):
        export(source, "savedmodel", out_root=tmp_path)
    result = export(source, "savedmodel", out_root=tmp_path, force=True)
    assert result.out_dir == dest and not (dest / "stale.txt").exists()
    assert (dest / SPEC_FILENAME).is_file() and (dest / "saved_model.pb").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == [dest.name]
