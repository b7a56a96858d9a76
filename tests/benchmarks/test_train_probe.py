"""Smoke test: ``benchmarks.train_probe`` compares training settings at equal images."""

from __future__ import annotations

import argparse

import pytest

from tests.benchmarks.reports import load_report

pytestmark = pytest.mark.slow


def test_variants_train_for_the_same_images(tiny_data, tmp_path, capsys):
    from benchmarks import train_probe

    out = tmp_path / "probe.json"
    train_probe.main(["--data", str(tiny_data), "--images", "8", "--log-every", "4",
                      "--variant", "a:lr=1e-3,batch_size=4", "--variant", "b:batch_size=2",
                      "--out", str(out)])
    a, b = load_report(out, "train_probe")["rows"]
    assert (a["steps"], b["steps"]) == (2, 4) and a["lr"] == 1e-3 and b["batch_size"] == 2
    assert [p["images"] for p in a["curve"]] == [p["images"] for p in b["curve"]] == [4, 8]
    assert all(p["loss"] > 0 for p in a["curve"] + b["curve"])
    assert set(a["val"]) >= {"mAP", "mAP50"}
    assert "loss @8" in capsys.readouterr().out


def test_bad_variant_names_the_key():
    from benchmarks.train_probe import parse_variant

    assert parse_variant("w:alpha=0.5").alpha == 0.5
    assert parse_variant("x:jit=1").jit and not parse_variant("x:jit=0").jit
    with pytest.raises(argparse.ArgumentTypeError, match="unknown key 'epochs'"):
        parse_variant("x:epochs=3")
