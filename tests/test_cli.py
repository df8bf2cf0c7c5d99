"""The `clearway` command as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import ultralytics

from service.cli import main
from service.config.settings import get_settings


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARWAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_site_check_reports_ok_and_exact_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["site", "check"]) == 0
    out = capsys.readouterr().out
    assert "2 compounds, 5 cameras" in out and "huayuan-lane: ground calibration, 5 points: reprojection error" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("agencies: []\ncompounds: []\ncameras: [{id: c, compound: x, zones: [{id: z, type: lane}]}]\n")
    assert main(["site", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "cameras[0].zones[0].type" in err and "cameras[0].zones[0].polygon (camera c, zone z): Field required" in err


def test_db_upgrade_and_keys(capsys: pytest.CaptureFixture) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "database at revision" in capsys.readouterr().out
    assert main(["keys", "create", "--name", "gw", "--role", "gateway", "--camera", "lanting-gate"]) == 0
    assert capsys.readouterr().out.startswith("cw_")
    assert main(["keys", "create", "--name", "pm", "--role", "property"]) == 2
    assert "needs --agency" in capsys.readouterr().err
    assert main(["keys", "create", "--name", "pm", "--role", "police", "--agency", "pm-lanting"]) == 2
    assert "is a property_company" in capsys.readouterr().err
    assert main(["keys", "demo"]) == 0
    out = capsys.readouterr().out
    assert "ADMIN_KEY=cw_" in out and "PM_LANTING_KEY=cw_" in out and "PS_CHENGGUAN_KEY=cw_" in out


def test_detect_without_a_model_says_how_to_get_one(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("CLEARWAY_MODELS_DIR", str(tmp_path / "empty"))
    get_settings.cache_clear()
    bus = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"
    assert main(["detect", str(bus), "--camera", "lanting-gate"]) == 2
    assert "clearway model install-default" in capsys.readouterr().err


@pytest.mark.model
def test_detect_prints_json_and_writes_annotated_image(
    default_model_path: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    monkeypatch.setenv("CLEARWAY_MODELS_DIR", str(default_model_path.parent))
    get_settings.cache_clear()
    bus = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"
    out = tmp_path / "bus.annotated.jpg"
    assert main(["detect", str(bus), "--camera", "lanting-gate", "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert out.stat().st_size > 10_000
    assert any(d["class_name"] == "bus" and d["category"] == "vehicle" for d in report["detections"])
    assert report["hazards"] == [] and "dwell" in report["note"]


def test_report_on_demand_writes_the_pdf_and_xlsx(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "reports"
    assert main(["report", "weekly", "--week", "2026-W46", "--unit", "pm-lanting", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "weekly report 2026-W46" in printed and "found 0" in printed
    pdf, xlsx = out / "clearway-2026-W46-pm-lanting.pdf", out / "clearway-2026-W46-pm-lanting.xlsx"
    assert pdf.read_bytes().startswith(b"%PDF") and xlsx.read_bytes().startswith(b"PK")
    assert main(["report", "final", "--language", "en", "--out", str(out)]) == 0
    assert (out / "clearway-final-county.pdf").exists()
    assert main(["report", "weekly", "--week", "2031-W01"]) == 2
    assert "not in the campaign (2026-W45 to" in capsys.readouterr().err
    assert main(["report", "weekly", "--week", "2026-W46", "--unit", "nobody"]) == 2
    assert "no report unit 'nobody'" in capsys.readouterr().err
