"""A lift entry end to end with the real offline default model: scikit-image's motorcycle photo (a real
motorcycle, as COCO names e-bikes and scooters) in a lift camera, frames over HTTP, the lift's controller
commanded through a real webhook, the entry counted per day; people riding the lift count for nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import pytest
import yaml
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth.keys import create_key
from service.config.settings import Settings
from tests.delivery.conftest import receivers  # noqa: F401  (the receivers fixture)
from tests.delivery.receivers import HttpReceiver
from tests.delivery.support import PUBLIC_URL, verify_signature, webhook
from tests.e2e.test_real_model import ASSETS, jpeg
from tests.support import wait_until

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
LIFT_ZONE = {"id": "car", "type": "elevator", "name": "Lift 2", "polygon": [[0, 0], [1, 0], [1, 1], [0, 1]]}


def site(url: str) -> dict:
    controller = webhook(f"{url}/lift", name="controller", events=["lift_command"])
    return {
        "agencies": [
            {"id": "pm", "name": "Property Co", "kind": "property_company", "channels": [controller]},
            {"id": "ps", "name": "Police Station", "kind": "police_station"},
        ],
        "compounds": [{"id": "estate", "name": "Estate", "property_company": "pm", "police_station": "ps"}],
        "cameras": [{"id": "lift-cam", "compound": "estate", "zones": [LIFT_ZONE]}],
    }


@pytest.fixture
def client(default_model_path: Path, tmp_path: Path, receivers) -> Iterator[TestClient]:  # noqa: F811
    receiver = receivers()
    site_file = tmp_path / "site.yaml"
    site_file.write_text(yaml.safe_dump(site(receiver.url)))
    settings = Settings(
        data_dir=tmp_path / "data",
        site_file=site_file,
        models_dir=default_model_path.parent,
        delivery={"public_url": PUBLIC_URL},
    )
    with TestClient(create_app(settings)) as test_client:
        with test_client.app.state.runtime.db.session() as session:
            key = create_key(session, "gw", "gateway", camera_ids=["lift-cam"])
            test_client.admin = {"Authorization": f"Bearer {create_key(session, 'admin', 'admin')}"}
        test_client.headers.update({"Authorization": f"Bearer {key}"})
        test_client.receiver = receiver
        yield test_client


def motorcycle(quality: int) -> bytes:
    import skimage.data

    rgb = skimage.data.stereo_motorcycle()[0]
    return cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])[1].tobytes()


def push(client: TestClient, body: bytes, seconds: float) -> dict:
    response = client.post(
        "/api/v1/cameras/lift-cam/frames",
        content=body,
        headers={"Content-Type": "image/jpeg"},
        params={"captured_at": (T0 + timedelta(seconds=seconds)).isoformat()},
    )
    assert response.status_code == 201, response.text
    return response.json()


def commands(receiver: HttpReceiver) -> list[str]:
    return [r.json()["command"] for r in receiver.requests if r.path == "/lift"]


@pytest.mark.model
def test_an_ebike_in_the_lift_is_counted_commands_the_controller_and_people_count_for_nothing(client) -> None:
    people = [push(client, jpeg(ASSETS / "zidane.jpg", 95 - i), i * 2) for i in range(4)]  # riders, no e-bike
    assert all(r["hazards"] == [] for r in people)
    assert any(d["category"] == "person" for d in people[0]["detections"])

    first = push(client, motorcycle(95), 60)
    ebike = [d for d in first["detections"] if d["class_name"] == "motorcycle"]
    assert ebike and ebike[0]["zones"] == ["car"]
    assert [c["change"] for c in first["hazards"]] == ["entered"]
    assert push(client, motorcycle(94), 63)["hazards"] == []
    opened = push(client, motorcycle(93), 66)["hazards"]  # 6 s in the lift: past its 5 s
    assert [(c["change"], c["zone_type"]) for c in opened] == [("opened", "elevator")]
    assert wait_until(lambda: commands(client.receiver) == ["alert"], timeout_s=15)
    alert = next(r for r in client.receiver.requests if r.path == "/lift")
    assert verify_signature(alert) and alert.json()["actions"] == ["voice_warning", "door_hold"]
    assert alert.json()["hazard"]["object"] == "motorcycle"

    for i, seconds in enumerate((90, 130, 170)):  # the lift without it, for the clear interval
        gone = push(client, jpeg(ASSETS / "zidane.jpg", 90 - i), seconds)
    assert [c["change"] for c in gone["hazards"]] == ["cleared"]
    assert wait_until(lambda: commands(client.receiver) == ["alert", "release"], timeout_s=15)

    day = T0.astimezone(client.app.state.runtime.sites.current().zone).date().isoformat()
    figures = client.get("/api/v1/lifts/entries", params={"from": day, "to": day}, headers=client.admin).json()
    assert [(d["zone"], d["entries"], d["hazards"]) for d in figures["items"]] == [("car", 1, 1)]
