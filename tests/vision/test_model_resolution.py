"""Model resolution order: explicit path -> models/ -> (online) Ultralytics download -> offline default."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.vision.detector import DEFAULT_MODEL_FILENAME, ModelNotFoundError, resolve_model


def test_explicit_path_then_models_dir_then_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    models = tmp_path / "models"
    models.mkdir()
    custom = tmp_path / "custom.onnx"
    custom.write_bytes(b"x")
    (models / "site.pt").write_bytes(b"x")
    (models / DEFAULT_MODEL_FILENAME).write_bytes(b"x")
    assert resolve_model(str(custom), models) == str(custom)
    assert resolve_model("site.pt", models) == str(models / "site.pt")
    assert resolve_model(None, models) == str(models / DEFAULT_MODEL_FILENAME)


def test_offline_never_falls_back_to_a_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOLO_OFFLINE", "1")
    with pytest.raises(ModelNotFoundError, match="offline"):
        resolve_model("yolo11n.pt", tmp_path)
    with pytest.raises(ModelNotFoundError, match="install-default"):
        resolve_model(None, tmp_path)


def test_online_a_released_name_is_left_to_ultralytics(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YOLO_OFFLINE", "0")
    assert resolve_model("yolo11n.pt", tmp_path) == "yolo11n.pt"
