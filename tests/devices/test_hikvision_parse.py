"""Hikvision notifications as cameras and NVRs send them: both XML dialects, JSON, multipart with pictures
under any part name, heartbeats; and what is refused (malformed XML, entities and XML bombs, no alert)."""

from __future__ import annotations

import json
from zoneinfo import ZoneInfo

import pytest

from service.sources.hikvision import AlertRejectedError, parse_device_time, parse_notification
from tests.devices.hikvision_device import MAC, alert_xml, jpeg, multipart


def test_a_cameras_alert_in_the_ver20_dialect() -> None:
    alert = parse_notification(alert_xml(), "application/xml; charset=UTF-8")
    assert (alert.event_type, alert.active, alert.channel, alert.mac) == ("fielddetection", True, 1, MAC)
    assert alert.address == "192.168.1.64" and alert.date_time == "2026-05-01T16:05:00+08:00"
    [target] = alert.targets
    assert target.kind == "vehicle" and target.region == "1"
    assert target.box == (0.312, 0.625, 0.437, 0.937)  # normalised to 1000 by the device
    assert alert.pictures == () and not alert.blind


def test_an_nvrs_alert_in_the_psialliance_dialect_names_its_ip_channel() -> None:
    alert = parse_notification(alert_xml(channel=33, nvr_serial="DS-7608NI-K2082020AACH123456789"), "text/xml")
    assert alert.channel == 33 and alert.serial == "DS-7608NI-K2082020AACH123456789"


@pytest.mark.parametrize("subtype", ["form-data", "mixed"])
def test_multipart_pictures_are_found_by_content_not_name(subtype: str) -> None:
    scene, crop = jpeg(1, (320, 180)), jpeg(2, (40, 40))
    body, content_type = multipart(alert_xml("linedetection"), [scene, crop], "linedetection", subtype)
    alert = parse_notification(body, content_type)
    assert alert.event_type == "linedetection" and alert.pictures == (scene, crop)


def test_json_alerts_of_newer_firmware() -> None:
    fields = {
        "ipAddress": "192.168.1.64",
        "macAddress": "44-19-B6-12-34-56",
        "channelID": 2,
        "dateTime": "2026-05-01T16:05:00+08:00",
        "eventType": "regionEntrance",
        "eventState": "active",
    }
    body = json.dumps(fields).encode()
    body_ct = multipart(body, [jpeg(3)], "regionEntrance")
    alert = parse_notification(*body_ct)
    assert (alert.event_type, alert.channel, alert.mac, len(alert.pictures)) == (
        "regionentrance",
        2,
        "44-19-B6-12-34-56",
        1,
    )


def test_heartbeats_and_blind_events() -> None:
    heartbeat = parse_notification(alert_xml("videoloss", "inactive"), "application/xml")
    assert not heartbeat.active and not heartbeat.blind
    assert parse_notification(alert_xml("shelteralarm"), "application/xml").blind
    assert parse_notification(alert_xml("videoloss"), "application/xml").blind


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<EventNotificationAlert><eventType>&lol2;</eventType></EventNotificationAlert>"""
EXTERNAL = b"""<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
<EventNotificationAlert><eventType>&e;</eventType></EventNotificationAlert>"""


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (BOMB, "application/xml", "xml_forbidden"),
        (EXTERNAL, "application/xml", "xml_forbidden"),
        (b"<EventNotificationAlert><eventType>vmd", "application/xml", "bad_xml"),
        (b"<Other/>", "application/xml", "bad_xml"),
        (b"{not json", "application/json", "bad_json"),
        (b"--x\r\n\r\nhello\r\n--x--\r\n", "multipart/form-data; boundary=x", "bad_multipart"),
        (b"data", "multipart/form-data", "bad_multipart"),
        (b"\xff\xd8\xff", "image/jpeg", "unsupported_media_type"),
        (alert_xml(channel=9999), "application/xml", "bad_channel"),
    ],
)
def test_what_cannot_be_read_is_refused_with_its_reason(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(AlertRejectedError) as refused:
        parse_notification(body, content_type)
    assert refused.value.reason == reason


def test_device_times_keep_their_offset_or_are_local_to_the_site() -> None:
    shanghai = ZoneInfo("Asia/Shanghai")
    assert parse_device_time("2026-05-01T16:05:00+08:00", shanghai).utcoffset().total_seconds() == 8 * 3600
    assert parse_device_time("2026-05-01T16:05:00", shanghai).tzinfo is shanghai
    assert parse_device_time("yesterday", shanghai) is None
