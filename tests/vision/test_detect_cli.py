"""`clearway detect` as a person runs it: the picture lands in the current folder, a short summary by default,
the full JSON with --json, a clear error for a folder that does not exist."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
import ultralytics

from service.cli import main
from service.config.settings import get_settings

BUS = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "evidence"


@pytest.fixture
def in_tmp(default_model_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CLEARWAY_MODELS_DIR", str(default_model_path.parent))
    monkeypatch.setenv("CLEARWAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.mark.model
def test_detect_writes_into_the_current_folder_and_prints_a_summary(in_tmp: Path, capsys) -> None:
    assert main(["detect", str(BUS), "--camera", "lanting-gate"]) == 0
    out = capsys.readouterr().out
    picture = in_tmp / "bus.annotated.jpg"
    assert picture.is_file() and not (BUS.parent / "bus.annotated.jpg").exists()  # never beside the input
    lines = out.splitlines()
    assert lines[0].startswith("bus.jpg on camera lanting-gate: ") and "object(s)" in lines[0]
    assert any(line.strip().startswith("vehicle (bus) ") and "%" in line for line in lines)
    assert any(line.startswith("zone fire-lane-north '北门消防车道 North fire lane': fire_lane") for line in lines)
    assert f"picture: {picture}" in lines and "--json" in lines[-1]
    drawn = cv2.imread(str(picture))
    assert drawn.shape[1] == 810 and drawn.shape[0] > 1080  # bus.jpg with the caption band below
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(picture, OUTPUT / "detect-bus-zh.jpg")


@pytest.mark.model
def test_detect_json_and_language_and_a_missing_folder(in_tmp: Path, capsys) -> None:
    out = in_tmp / "en.jpg"
    assert main(["detect", str(BUS), "--camera", "lanting-gate", "--json", "--language", "en", "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["annotated"] == str(out) and out.is_file()
    assert any(d["category"] == "vehicle" and d["zones"] == ["fire-lane-north"] for d in report["detections"])
    OUTPUT.mkdir(parents=True, exist_ok=True)
    shutil.copy(out, OUTPUT / "detect-bus-en.jpg")
    assert main(["detect", str(BUS), "--camera", "lanting-gate", "--out", str(in_tmp / "nowhere" / "x.jpg")]) == 2
    err = capsys.readouterr().err
    assert f"folder {in_tmp / 'nowhere'} does not exist" in err
