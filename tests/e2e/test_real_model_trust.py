"""Trust with the real default model on the bus photo shipped in ultralytics: a nudged camera does not clear
and re-open the parked bus's hazard, a backlog uploaded newest first opens exactly one, dated from the oldest
frame, and a disarmed lane opens none."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import yaml
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth.keys import create_key
from service.config.settings import Settings
from tests.e2e.test_real_model import ASSETS, SITE, T0, client, jpeg, push  # noqa: F401  (the client fixture)


def nudged(quality: int) -> bytes:
    """The bus photo as after a gust of wind: the view tipped up by a fifth of its height (the bus leaves the
    lane band drawn under it)."""
    image = cv2.imread(str(ASSETS / "bus.jpg"))
    height, width = image.shape[:2]
    shift = np.float32([[1, 0, 0], [0, 1, -height // 5]])
    moved = cv2.warpAffine(image, shift, (width, height), borderMode=cv2.BORDER_REPLICATE)
    return cv2.imencode(".jpg", moved, [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def changes(result: dict) -> list[str]:
    return [h["change"] for h in result["hazards"]]


@pytest.mark.model
def test_a_nudged_camera_keeps_the_one_hazard_of_the_parked_bus(client: TestClient) -> None:  # noqa: F811
    bus = ASSETS / "bus.jpg"
    for quality, seconds in ((95, 0), (94, 30)):
        push(client, "bus-cam", jpeg(bus, quality), seconds)
    assert changes(push(client, "bus-cam", jpeg(bus, 93), 60)) == ["opened"]
    wobble = push(client, "bus-cam", nudged(92), 90)
    buses = [d for d in wobble["detections"] if d["class_name"] == "bus"]
    assert buses and buses[0]["zones"] == []  # the model still sees the bus, now outside the lane
    assert changes(wobble) == []  # one frame outside is not leaving
    assert changes(push(client, "bus-cam", jpeg(bus, 91), 120)) == ["updated"]
    assert changes(push(client, "bus-cam", nudged(90), 150)) == []
    assert changes(push(client, "bus-cam", jpeg(bus, 89), 180)) == ["updated"]
    listing = client.get("/api/v1/hazards", headers=client.admin).json()
    assert len(listing["items"]) == 1 and listing["items"][0]["status"] == "open"


@pytest.mark.model
def test_a_backlog_uploaded_newest_first_opens_one_hazard_from_the_oldest_frame(client: TestClient) -> None:  # noqa: F811
    bus = ASSETS / "bus.jpg"
    opened = []
    for n, seconds in enumerate(range(240, -1, -30)):  # four minutes of the bus parked, sent newest first
        result = push(client, "bus-cam", jpeg(bus, 95 - n), seconds)
        assert result["late"] == (seconds < 240)
        opened += [h for h in result["hazards"] if h["change"] == "opened"]
    assert len(opened) == 1
    detail = client.get(f"/api/v1/hazards/{opened[0]['hazard_id']}", headers=client.admin).json()
    assert detail["first_seen_at"] == T0.isoformat()  # the backlog's oldest frame
    assert detail["opened_at"] == (T0 + timedelta(seconds=240)).isoformat()  # the newest time seen


@pytest.fixture
def market_client(default_model_path: Path, tmp_path: Path):
    """The same site, its lane disarmed from 16:00 to 17:00 site time (a market): T0 is 16:00 in Shanghai."""
    site = copy.deepcopy(SITE)
    site["cameras"][0]["zones"][0]["arming"] = {"disarmed": [{"from": "16:00", "to": "17:00"}]}
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump(site))
    settings = Settings(data_dir=tmp_path / "data", site_file=site_file, models_dir=default_model_path.parent)
    with TestClient(create_app(settings)) as test_client:
        with test_client.app.state.runtime.db.session() as session:
            key = create_key(session, "gw", "gateway", camera_ids=["bus-cam"])
        test_client.headers.update({"Authorization": f"Bearer {key}"})
        yield test_client


@pytest.mark.model
def test_a_disarmed_lane_opens_nothing_until_it_is_armed_again(market_client: TestClient) -> None:
    bus = ASSETS / "bus.jpg"
    for n, seconds in enumerate((0, 60, 120, 1800, 3540)):  # the bus stands through the market hour
        result = push(market_client, "bus-cam", jpeg(bus, 95 - n), seconds)
        assert [d["zones"] for d in result["detections"] if d["class_name"] == "bus"] == [["lane"]]
        assert result["hazards"] == []
    assert changes(push(market_client, "bus-cam", jpeg(bus, 89), 3600)) == ["opened"]  # 17:00: armed, still there
