"""The alarm-server endpoint as a Hikvision camera and NVR use it, end to end into hazards (SQLite and
PostgreSQL): a parked car in three event pictures opens one hazard; heartbeats, blind cameras, unknown devices,
bad credentials and bad bodies each get their answer, counted, with nothing stored for a refusal."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import yaml
from sqlalchemy import func, select

from service.config.settings import DEMO_SITE
from service.store import models as m
from service.vision.decoding import decode_image
from tests.api.conftest import Harness
from tests.api.support import CAR, T0
from tests.devices.hikvision_device import MAC, alert_xml, jpeg, multipart
from tests.support import detections
from tests.web.support import add_people, fresh_client, login

NVR = "DS-7608NI-K2082020AACH123456789"
URL = "/api/v1/push/hikvision"


def device_site(tmp_path: Path) -> Path:
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    cameras = {c["id"]: c for c in data["cameras"]}
    cameras["lanting-gate"]["device"] = {"mac": MAC.upper().replace(":", "-")}
    cameras["lanting-b3-stair"]["device"] = {"serial": NVR, "channel": 33}
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def local(seconds: float) -> str:
    """The time as a device in Asia/Shanghai writes it."""
    return (T0 + timedelta(seconds=seconds, hours=8)).replace(tzinfo=None).isoformat() + "+08:00"


def notify(h: Harness, seed: int, seconds: float, objects: tuple = (CAR,), path: str = URL, **alert: object):
    picture = jpeg(seed)
    h.detector.register(decode_image(picture, 10**8)[0], detections(*objects))
    body, content_type = multipart(alert_xml(when=local(seconds), **alert), [picture, jpeg(seed + 1000, (16, 16))])
    headers = {"Content-Type": content_type}
    if path == URL:
        headers["Authorization"] = "Basic " + base64.b64encode(f"admin:{h.keys['gateway']}".encode()).decode()
    answer = h.client.post(path, content=body, headers=headers)
    h.client.app.state.runtime.devices.join()
    return answer


def counted(h: Harness, outcome: str) -> float:
    metric = h.client.app.state.runtime.metrics.device_events
    return metric.labels(source="hikvision", outcome=outcome)._value.get()


def test_event_pictures_of_a_parked_car_open_one_hazard(make_harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = make_harness(site_file=device_site(tmp_path))
    for n, seconds in enumerate((0, 150, 300)):
        answer = notify(h, n + 1, seconds)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {
            "camera_id": "lanting-gate",
            "event": "fielddetection",
            "accepted": 1,
            "camera_blind": False,
        }
    hazards = h.client.get("/api/v1/hazards", headers=h.headers("admin")).json()["items"]
    assert [(x["camera_id"], x["kind"]) for x in hazards] == [("lanting-gate", "vehicle_in_fire_lane")]
    with h.client.app.state.runtime.db.session() as session:
        frames = list(session.scalars(select(m.FrameRecord).order_by(m.FrameRecord.captured_at)))
    assert [f.source for f in frames] == ["hikvision"] * 3
    assert frames[0].captured_at == T0  # the device's dateTime, with its +08:00 offset
    assert frames[0].width == 64  # the scene picture, not the device's small crop of its target
    assert frames[0].device_event["event"] == "fielddetection"
    assert frames[0].device_event["targets"][0]["kind"] == "vehicle"
    assert counted(h, "accepted") == 3
    detail = h.client.get(f"/api/v1/hazards/{hazards[0]['id']}", headers=h.headers("admin")).json()
    assert detail["device_event"]["event"] == "fielddetection"  # shown beside our own detection, as a hint
    add_people(h)
    browser = fresh_client(h)
    login(browser, "admin")
    page = browser.get(f"/web/hazards/{hazards[0]['id']}?status=all")
    assert 'id="device-event"' in page.text and "fielddetection" in page.text


def test_an_nvr_channel_and_the_key_in_the_path(make_harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = make_harness(site_file=device_site(tmp_path))
    answer = notify(h, 1, 0, path=f"{URL}/{h.keys['gateway']}", nvr_serial=NVR, channel=33, event="linedetection")
    assert answer.status_code == 200 and answer.json()["camera_id"] == "lanting-b3-stair"


def test_heartbeats_blind_cameras_and_unknown_devices(make_harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = make_harness(site_file=device_site(tmp_path))
    headers = h.headers("gateway") | {"Content-Type": "application/xml"}
    beat = h.client.post(URL, content=alert_xml("videoloss", "inactive", when=local(0)), headers=headers)
    assert beat.status_code == 200 and beat.json()["accepted"] == 0 and counted(h, "heartbeat") == 1
    covered = h.client.post(URL, content=alert_xml("shelteralarm", when=local(10)), headers=headers)
    assert covered.status_code == 200 and covered.json()["camera_blind"] is True
    hazards = h.client.get("/api/v1/hazards", headers=h.headers("admin")).json()["items"]
    assert [x["kind"] for x in hazards] == ["camera_offline"]  # a covered fire-lane camera is a hazard itself
    stranger = h.client.post(URL, content=alert_xml(mac="00:11:22:33:44:55", when=local(20)), headers=headers)
    assert stranger.status_code == 404 and stranger.json()["detail"]["reason"] == "unknown_device"
    [unknown] = h.client.app.state.runtime.unknown_devices.listed()
    assert (unknown.identity, unknown.channel, unknown.event) == ("00:11:22:33:44:55", 1, "fielddetection")
    assert counted(h, "unknown_device") == 1
    add_people(h)
    browser = fresh_client(h)
    login(browser, "admin")
    assert "00:11:22:33:44:55" in browser.get("/web/cameras").text  # the installer sees what to add


def test_refusals_are_clear_counted_and_store_nothing(make_harness: Callable[..., Harness], tmp_path: Path) -> None:
    h = make_harness(site_file=device_site(tmp_path), max_upload_bytes=50_000)
    xml = {"Content-Type": "application/xml"}
    cases = [
        ({}, alert_xml(), xml, 401, "unauthenticated"),
        (h.headers("lanting"), alert_xml(), xml, 403, "forbidden"),
        (h.headers("gateway"), b"<!DOCTYPE x [<!ENTITY a 'b'>]><EventNotificationAlert/>", xml, 400, "xml_forbidden"),
        (h.headers("gateway"), b"<EventNotificationAlert>", xml, 400, "bad_xml"),
        (h.headers("gateway"), b"\xff\xd8\xff\xe0", {"Content-Type": "image/jpeg"}, 415, "unsupported_media_type"),
        (h.headers("gateway"), b"x" * 400_000, xml, 413, "too_large"),
    ]
    for auth, body, content_type, code, reason in cases:
        answer = h.client.post(URL, content=body, headers=auth | content_type)
        assert answer.status_code == code, (reason, answer.text)
        assert answer.json()["detail"]["reason"] == reason
        assert counted(h, reason) == 1
    with h.client.app.state.runtime.db.session() as session:
        assert session.scalar(select(func.count()).select_from(m.FrameRecord)) == 0
