"""Importer fixtures: the real NanoDet that `make nanodet` fetched and imported.

Missing models fail (they do not skip): `make test` builds them first, and a test run that
silently skipped the real-model checks would prove nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NANODET = ROOT / "models" / "nanodet"
NANODET_SOURCE = ROOT / "models" / "sources" / "nanodet" / "nanodet.json"
NANODET_CONFIG = ROOT / "importers" / "configs" / "nanodet-g-416.json"


@pytest.fixture(scope="session")
def nanodet() -> Path:
    """``models/nanodet``: the imported NanoDet (saved_model/ + detector.json)."""
    if not (NANODET / "detector.json").is_file():
        pytest.fail(f"{NANODET} is missing: run `make nanodet`")
    return NANODET


@pytest.fixture(scope="session")
def nanodet_source() -> Path:
    """The TF.js graph model the import started from (nanodet.json + nanodet.bin)."""
    if not NANODET_SOURCE.is_file():
        pytest.fail(f"{NANODET_SOURCE} is missing: run `make nanodet`")
    return NANODET_SOURCE


@pytest.fixture(scope="session")
def nanodet_exports(nanodet: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One exports root holding the imported NanoDet as TF.js fp32 and TFLite fp32, each
    through the real exporter and its parity gate (browser and web demo checks share it)."""
    from exporters.export import ExportStatus, export

    root = tmp_path_factory.mktemp("nanodet-exports")
    for fmt in ("tfjs", "tflite"):
        result = export(nanodet, fmt, "fp32", out_root=root)
        assert result.status == ExportStatus.OK, result
    return root
