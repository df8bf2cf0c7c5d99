"""Pulled cameras end to end into hazards, through the real app (SQLite and PostgreSQL): a snapshot URL polled,
and a Dahua device's event pictures, each showing a parked car long enough for the zone's dwell."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from service.config.settings import DEMO_SITE
from tests.api.conftest import Harness
from tests.api.support import CAR
from tests.sources.device_emulator import DeviceEmulator, event, stall
from tests.support import detections, wait_until


@pytest.fixture
def device() -> Iterator[DeviceEmulator]:
    emulator = DeviceEmulator().start()
    yield emulator
    emulator.stop()


def pulled_site(tmp_path: Path, source: dict) -> Path:
    """lanting-gate pulled as `source` says, its fire lane with a one-second dwell so a test need not wait."""
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    camera = next(c for c in data["cameras"] if c["id"] == "lanting-gate")
    camera.update(source)
    camera["zones"][0]["dwell_seconds"] = 1
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def hazards_of(h: Harness) -> list[dict]:
    return h.client.get("/api/v1/hazards", headers=h.headers("admin")).json()["items"]


def parked_car(h: Harness) -> None:
    h.detector.detect = lambda image: detections(CAR)  # every picture shows the car in the fire lane


def test_a_polled_snapshot_url_opens_a_hazard(
    make_harness: Callable[..., Harness], tmp_path: Path, device: DeviceEmulator
) -> None:
    device.snapshot_auth = "basic"
    snapshot = {"url": f"{device.url}/snap.jpg", "username": "admin", "password": device.password, "interval_s": 0.5}
    h = make_harness(site_file=pulled_site(tmp_path, {"source": "snapshot", "snapshot": snapshot}))
    parked_car(h)
    assert wait_until(lambda: hazards_of(h), timeout_s=30)
    [hazard] = hazards_of(h)
    assert (hazard["camera_id"], hazard["kind"]) == ("lanting-gate", "vehicle_in_fire_lane")


def test_dahua_event_pictures_open_a_hazard_with_the_devices_hint(
    make_harness: Callable[..., Harness], tmp_path: Path, device: DeviceEmulator
) -> None:
    seen = event("CrossRegionDetection", data={"Object": {"ObjectType": "Vehicle"}})
    device.scripts = [[step for _ in range(8) for step in (seen, stall(0.5))]]  # a picture each half second
    dahua = {"url": device.url, "username": "admin", "password": device.password, "heartbeat_s": 5}
    h = make_harness(site_file=pulled_site(tmp_path, {"source": "dahua", "dahua": dahua}))
    parked_car(h)
    assert wait_until(lambda: hazards_of(h), timeout_s=30)
    [hazard] = hazards_of(h)
    detail = h.client.get(f"/api/v1/hazards/{hazard['id']}", headers=h.headers("admin")).json()
    assert detail["device_event"]["vendor"] == "dahua" and detail["device_event"]["event"] == "CrossRegionDetection"
