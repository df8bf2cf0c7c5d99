"""End to end with the real offline default model on real photos shipped inside installed packages.

A fire lane drawn under the bus in ultralytics' bus.jpg: frames spanning the dwell time give exactly one
hazard with evidence and the right recipients; a single frame gives none; frames without the bus clear it.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import ultralytics
import yaml
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth.keys import create_key
from service.config.settings import Settings

ASSETS = Path(ultralytics.__file__).parent / "assets"
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
SITE = {
    "agencies": [
        {"id": "pm", "name": "Property Co", "kind": "property_company"},
        {"id": "ps", "name": "Police Station", "kind": "police_station"},
    ],
    "compounds": [{"id": "estate", "name": "Estate", "property_company": "pm", "police_station": "ps"}],
    "cameras": [
        {
            "id": "bus-cam",
            "compound": "estate",
            "zones": [
                {
                    "id": "lane",
                    "type": "fire_lane",
                    "dwell_seconds": 60,
                    "polygon": [[0.0, 0.6], [1.0, 0.6], [1.0, 0.8], [0.0, 0.8]],
                },
            ],
        },
        {
            "id": "stair-cam",
            "compound": "estate",
            "zones": [{"id": "stair", "type": "stairwell", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}],
        },
    ],
}


def jpeg(path: Path, quality: int) -> bytes:
    """Re-encode so each frame is a distinct upload (the service refuses byte-identical duplicates)."""
    return cv2.imencode(".jpg", cv2.imread(str(path)), [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


@pytest.fixture
def client(default_model_path: Path, tmp_path: Path):
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump(SITE))
    settings = Settings(data_dir=tmp_path / "data", site_file=site_file, models_dir=default_model_path.parent)
    with TestClient(create_app(settings)) as test_client:
        with test_client.app.state.runtime.db.session() as session:
            key = create_key(session, "gw", "gateway", camera_ids=["bus-cam", "stair-cam"])
            admin = create_key(session, "admin", "admin")
        test_client.headers.update({"Authorization": f"Bearer {key}"})
        test_client.admin = {"Authorization": f"Bearer {admin}"}
        yield test_client


def push(client: TestClient, camera: str, body: bytes, seconds: float) -> dict:
    response = client.post(
        f"/api/v1/cameras/{camera}/frames",
        content=body,
        headers={"Content-Type": "image/jpeg"},
        params={"captured_at": (T0 + timedelta(seconds=seconds)).isoformat()},
    )
    assert response.status_code == 201, response.text
    return response.json()


@pytest.mark.model
def test_parked_bus_opens_one_hazard_and_leaving_clears_it(client: TestClient) -> None:
    bus, street = ASSETS / "bus.jpg", ASSETS / "zidane.jpg"
    first = push(client, "bus-cam", jpeg(bus, 95), 0)
    bus_rows = [d for d in first["detections"] if d["class_name"] == "bus"]
    assert len(bus_rows) == 1 and bus_rows[0]["zones"] == ["lane"] and bus_rows[0]["confidence"] > 0.5
    persons = [d for d in first["detections"] if d["category"] == "person"]
    assert len(persons) >= 3 and all(p["zones"] == [] for p in persons)  # counted, never obstructions
    assert first["hazards"] == []  # a single frame opens nothing

    assert push(client, "bus-cam", jpeg(bus, 94), 30)["hazards"] == []
    opened = push(client, "bus-cam", jpeg(bus, 93), 60)["hazards"]
    assert [(h["change"], h["category"]) for h in opened] == [("opened", "vehicle")]
    hazard_id = opened[0]["hazard_id"]
    assert [h["change"] for h in push(client, "bus-cam", jpeg(bus, 92), 90)["hazards"]] == ["updated"]

    for i, seconds in enumerate((120, 150, 180)):  # the street without the bus, for the clear interval
        result = push(client, "bus-cam", jpeg(street, 95 - i), seconds)
    assert [h["change"] for h in result["hazards"]] == ["cleared"]

    listing = client.get("/api/v1/hazards", headers=client.admin).json()
    assert [h["id"] for h in listing["items"]] == [hazard_id]
    detail = client.get(f"/api/v1/hazards/{hazard_id}", headers=client.admin).json()
    assert detail["status"] == "cleared" and detail["class_name"] == "bus"
    assert {r["agency_id"] for r in detail["recipients"]} == {"pm", "ps"}
    assert {e["kind"] for e in detail["evidence"]} == {"original", "annotated", "thumbnail"}
    for item in detail["evidence"]:
        data = client.get(item["url"], headers=client.admin).content
        assert hashlib.sha256(data).hexdigest() == item["sha256"]
        assert cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) is not None
    original = next(e for e in detail["evidence"] if e["kind"] == "original")
    assert original["sha256"] == hashlib.sha256(jpeg(bus, 93)).hexdigest()  # the opening frame, unaltered


@pytest.mark.model
def test_motorcycle_counts_as_two_wheeler_in_a_stairwell(client: TestClient) -> None:
    import skimage.data

    rgb = skimage.data.stereo_motorcycle()[0] if hasattr(skimage.data, "stereo_motorcycle") else None
    assert rgb is not None
    body = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))[1].tobytes()
    result = push(client, "stair-cam", body, 0)
    two_wheelers = [d for d in result["detections"] if d["category"] == "two_wheeler"]
    assert two_wheelers and two_wheelers[0]["zones"] == ["stair"]
