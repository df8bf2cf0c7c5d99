"""`clearway export labelled`: confirmed hazards as YOLO positives, dismissed ones as negatives."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from service.cli import main
from service.config.settings import get_settings
from tests.api.conftest import Harness
from tests.web.support import push

CARS = [
    ("car", "vehicle", (8, 30, 20, 45)),
    ("truck", "vehicle", (40, 30, 56, 45)),
    ("car", "vehicle", (24, 32, 34, 45)),
]


def test_export_writes_images_and_labels(harness: Harness, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for i, t in enumerate((0, 150)):
        push(harness, 300 + i, t, *CARS)
    ids = sorted(x["hazard_id"] for x in push(harness, 302, 300, *CARS)["hazards"])
    police = harness.headers("police")
    harness.client.post(f"/api/v1/hazards/{ids[0]}/confirm", headers=police)
    harness.client.post(f"/api/v1/hazards/{ids[1]}/dismiss", headers=police, json={"reason": "false_positive"})
    monkeypatch.setenv("CLEARWAY_DATA_DIR", str(harness.settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", harness.settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        assert main(["export", "labelled", str(tmp_path / "out")]) == 0
    finally:
        get_settings.cache_clear()
    out = tmp_path / "out"
    manifest = json.loads((out / "labels.json").read_text())
    by_id = {item["hazard_id"]: item for item in manifest["items"]}
    assert set(by_id) == {ids[0], ids[1]}  # the third is neither confirmed nor dismissed
    positive, negative = by_id[ids[0]], by_id[ids[1]]
    assert positive["label"] == "positive" and negative["label"] == "negative"
    assert negative["dismiss_reason"] == "false_positive"
    assert manifest["classes"] == [positive["class_name"]]
    for item in (positive, negative):
        data = (out / item["image"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == item["sha256"]
        assert (item["width"], item["height"]) == (64, 48)
    label = (out / "positives" / "labels" / f"{ids[0]}.txt").read_text().split()
    x1, y1, x2, y2 = positive["box_xyxy"]
    assert label[0] == "0"
    assert [float(v) for v in label[1:]] == pytest.approx(
        [(x1 + x2) / 2 / 64, (y1 + y2) / 2 / 48, (x2 - x1) / 64, (y2 - y1) / 48], abs=1e-5
    )
    assert not (out / "negatives" / "labels").exists()
