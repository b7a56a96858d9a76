"""Bad import configs and bad sources stop with an error naming the file and the field,
a non-zero exit, and nothing written."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from importers.config import load_config
from importers.errors import ImportConfigError, ImporterError, ImportSourceError
from tests.importers.conftest import NANODET_CONFIG

BASE = json.loads(NANODET_CONFIG.read_text(encoding="utf-8"))


def write(tmp_path: Path, config: dict, name: str = "bad.json") -> Path:
    """``config`` as a file in the configs folder layout (licence paths stay valid)."""
    folder = tmp_path / "configs"
    folder.mkdir(exist_ok=True)
    lic = folder.parent / "licenses"
    if not lic.exists():
        lic.symlink_to(NANODET_CONFIG.parent.parent / "licenses", target_is_directory=True)
    path = folder / name
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def changed(edit) -> dict:
    config = copy.deepcopy(BASE)
    edit(config)
    return config


def test_the_shipped_config_is_valid():
    cfg = load_config(NANODET_CONFIG)
    assert (cfg.decoder, len(cfg.labels), cfg.input.size) == ("gfl", 80, (416, 416))
    assert cfg.input.rgb_mean == (123.675, 116.28, 103.53)  # BGR stats stated in RGB order
    assert cfg.labels[0] == "person" and cfg.labels[-1] == "toothbrush"


@pytest.mark.parametrize(("edit", "field", "problem"), [
    (lambda c: c.update(schema_version=2), "schema_version", "must be 1"),
    (lambda c: c.update(colour="red"), "<root>", r"unknown keys \['colour'\]"),
    (lambda c: c["input"].update(layout="NCWH"), "input.layout", "NCHW"),
    (lambda c: c["input"].update(mean=[1, 2]), "input.mean", "3 finite"),
    (lambda c: c["input"].update(std=[1, 0, 1]), "input.std", "positive"),
    (lambda c: c["input"].pop("size"), "input.size", "is required"),
    (lambda c: c["input"].update(size=[416]), "input.size", "positive integers"),
    (lambda c: c["input"].update(pad_value=300), "input.pad_value", r"\[0, 255\]"),
    (lambda c: c["decoder"].update(name="retina"), "decoder.name", "'gfl'"),
    (lambda c: c["decoder"].pop("levels"), "decoder.levels", "is required"),
    (lambda c: c["decoder"]["levels"][1].update(stride=0), r"decoder.levels\[1\].stride",
     ">= 1"),
    (lambda c: c["decoder"].update(reg_max="10"), "decoder.reg_max", "integer"),
    (lambda c: c.update(labels=["a", "a"]), "labels", "duplicate"),
    (lambda c: c.update(labels=[]), "labels", "non-empty"),
    (lambda c: c["nms"].update(iou=0.5), "nms", r"unknown keys \['iou'\]"),
    (lambda c: c.update(licenses=["../licenses/nope.txt"]), r"licenses\[0\]",
     "does not exist"),
    (lambda c: c["source"].update(sha256={"nanodet.bin": "abc"}), "source.sha256", "64-hex"),
])
def test_bad_config_names_file_and_field(tmp_path, edit, field, problem):
    path = write(tmp_path, changed(edit))
    from importers.decoders import get_decoder

    where = re.escape(str(path))
    with pytest.raises(ImportConfigError, match=rf"{where}: field '{field}' .*{problem}"):
        cfg = load_config(path)
        get_decoder(cfg.decoder)(cfg.decoder_params, cfg.input.size, len(cfg.labels))


def test_missing_and_malformed_config_files(tmp_path):
    with pytest.raises(ImportConfigError, match="nope.json: .*does not exist"):
        load_config(tmp_path / "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_text('{"schema_version": 1,\n "name": }')
    with pytest.raises(ImportConfigError, match=r"broken.json: .*not valid JSON \(line 2"):
        load_config(broken)


# -- errors that need the source model ------------------------------------------------------

@pytest.mark.parametrize(("edit", "error", "message"), [
    (lambda c: c.update(labels=c["labels"][:79]), ImportConfigError,
     r"field 'decoder.levels\[0\].scores' names tensor 'Identity:0' of shape "
     r"\[None, 2704, 80\], expected \[None, 2704, 79\]"),
    (lambda c: c["decoder"].update(reg_max=7), ImportConfigError,
     r"field 'decoder.levels\[0\].distributions' .*expected \[None, 2704, 32\]"),
    (lambda c: c["decoder"]["levels"][2].update(scores="Identity_9:0"), ImportSourceError,
     r"nanodet.json: no tensor \['Identity_9:0'\]"),
    (lambda c: c["input"].update(size=[320, 320]), ImportConfigError,
     r"field 'input.size/input.layout' give input shape \[1, 3, 320, 320\]"),
    (lambda c: c["input"].update(layout="NHWC"), ImportConfigError,
     r"field 'input.size/input.layout'"),
    (lambda c: c["input"].update(tensor="images:0"), ImportConfigError,
     r"field 'input.tensor' names 'images:0'.*input_1:0"),
    (lambda c: c["source"]["sha256"].update({"nanodet.bin": "0" * 64}), ImportSourceError,
     r"nanodet.bin has sha256 5d0e4f8c.*expects 0000"),
    (lambda c: c["source"]["sha256"].update({"weights.bin": "0" * 64}), ImportConfigError,
     r"field 'source.sha256.weights.bin' names a file the source does not have"),
])
def test_config_disagreeing_with_the_source_names_the_field(tmp_path, nanodet_source, edit,
                                                            error, message):
    from importers.build import import_model

    out = tmp_path / "out"
    with pytest.raises(error, match=message):
        import_model(nanodet_source, write(tmp_path, changed(edit)), out)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]  # no temp left


def test_bad_sources(tmp_path):
    from importers.build import import_model

    with pytest.raises(ImportSourceError, match="missing: no such file"):
        import_model(tmp_path / "missing", NANODET_CONFIG, tmp_path / "out")
    (tmp_path / "model.json").write_text('{"format": "layers-model"}')
    with pytest.raises(ImportSourceError, match=r"model.json: not a TF.js graph model"):
        import_model(tmp_path, NANODET_CONFIG, tmp_path / "out")
    (tmp_path / "model.json").write_text(json.dumps(
        {"modelTopology": {"node": []},
         "weightsManifest": [{"paths": ["group1-shard1of1.bin"], "weights": []}]}))
    with pytest.raises(ImportSourceError, match=r"weight shards missing: .*group1-shard1of1.bin"):
        import_model(tmp_path / "model.json", NANODET_CONFIG, tmp_path / "out")
    (tmp_path / "weights.txt").write_text("x")
    with pytest.raises(ImportSourceError, match="not a SavedModel folder"):
        import_model(tmp_path / "weights.txt", NANODET_CONFIG, tmp_path / "out")


def test_cli_exit_code_and_message(tmp_path, nanodet_source):
    from sdk.cli import main

    bad = write(tmp_path, changed(lambda c: c["input"].update(channel_order="BRG")))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["import", str(nanodet_source), "--config", str(bad),
                                       "--out", str(out)])
    assert result.exit_code == 1
    assert f"{bad}: field 'input.channel_order' must be one of ['RGB', 'BGR']" in result.output
    assert not out.exists()
    usage = CliRunner().invoke(main, ["import", str(nanodet_source)])
    assert usage.exit_code == 2 and "--config" in usage.output


def test_existing_output_is_refused_and_kept(tmp_path, nanodet_source):
    from importers.build import import_model
    from sdk.data import DataError

    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="already exists"):
        import_model(nanodet_source, NANODET_CONFIG, out)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert issubclass(ImportConfigError, ImporterError)
