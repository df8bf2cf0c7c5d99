"""Snapshot, ONVIF and Dahua readers against the device emulator, through the supervisor; the multipart parser alone.

Every wait is a bounded poll on something observable (a frame, a status, a counter); nothing is timed.
The site file allows heartbeat_s >= 5; the tests copy the settings with 1 s so a stall shows within 2 s.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest

from service.config.site import Camera
from service.sources import CameraHealth, StreamSupervisor
from service.sources.dahua_reader import parse_event_fields, parse_event_lines
from service.sources.multipart_stream import MultipartError, MultipartStream, Part, PartTooLarge, boundary_of
from service.sources.onvif import password_digest, reachable
from service.vision.types import Frame
from tests.sources.conftest import FAST
from tests.sources.device_emulator import DeviceEmulator, event, heartbeat, jpeg, stall
from tests.support import free_port, wait_until

Factory = Callable[..., StreamSupervisor]
PASSWORD = "Emu-Secret-42"
LANE = {"Name": "Lane", "Object": {"ObjectType": "Vehicle", "BoundingBox": [0, 0, 4096, 8191]}}


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.frames: list[Frame] = []
        self.health: list[CameraHealth] = []

    def on_frame(self, frame: Frame) -> None:
        with self.lock:
            self.frames.append(frame)

    def on_health(self, current: CameraHealth, previous: CameraHealth | None) -> None:
        with self.lock:
            self.health.append(current)

    def statuses(self) -> list[str]:
        with self.lock:
            return [h.status for h in self.health]

    def count(self) -> int:
        with self.lock:
            return len(self.frames)


@pytest.fixture()
def device() -> Iterator[DeviceEmulator]:
    emulator = DeviceEmulator().start()
    yield emulator
    emulator.stop()


def run(make: Factory, camera: Camera, **kwargs: object) -> tuple[StreamSupervisor, Recorder]:
    rec = Recorder()
    sup = make(rec.on_frame, rec.on_health, **kwargs)
    sup.apply([camera])
    return sup, rec


def health(sup: StreamSupervisor, camera_id: str = "cam") -> CameraHealth:
    return sup.health()[camera_id]


def dahua(device: DeviceEmulator, heartbeat_s: int = 1, **settings: object) -> Camera:
    section = {"url": device.url, "username": "admin", "password": PASSWORD, "timeout_s": 3, **settings}
    camera = Camera(id="cam", compound="c1", source="dahua", dahua=section)
    return camera.model_copy(update={"dahua": camera.dahua.model_copy(update={"heartbeat_s": heartbeat_s})})


def snapshot(url: str, **settings: object) -> Camera:
    section = {"url": url, "username": "admin", "password": PASSWORD, "interval_s": 0.5, "timeout_s": 3, **settings}
    return Camera(id="cam", compound="c1", source="snapshot", snapshot=section)


# -- Dahua -------------------------------------------------------------------------------------------------


def test_dahua_event_pictures_arrive_with_the_devices_hint(device: DeviceEmulator, supervisors: Factory) -> None:
    device.scripts = [[heartbeat(), event("CrossRegionDetection", "Start", LANE), heartbeat()]]
    camera = dahua(device, events=("CrossRegionDetection", "VideoBlind"))
    sup, rec = run(supervisors, camera)
    assert wait_until(lambda: rec.count() >= 1 and device.heartbeats_sent >= 4)
    frame = rec.frames[0]
    assert frame.source == "dahua" and frame.encoded is not None and frame.encoded.startswith(b"\xff\xd8")
    assert frame.image.shape == (48, 64, 3) and frame.captured_at.tzinfo is not None
    assert frame.hint == {
        "vendor": "dahua",
        "event": "CrossRegionDetection",
        "action": "Start",
        "region": "Lane",
        "targets": [{"kind": "vehicle", "box": (0.0, 0.0, 0.5001, 1.0)}],
        "channel": 1,
        "data": LANE,
    }
    query = device.attach_queries[0]
    assert query["Events"] == ["[CrossRegionDetection,VideoBlind]"] and query["Flags[0]"] == ["Event"]
    assert query["channel"] == ["1"] and query["heartbeat"] == ["1"] and "Digest" in device.authorizations
    assert rec.statuses() == ["starting", "online"]  # heartbeats kept it online: no stall, no reconnect
    assert health(sup).reconnects == 0 and health(sup).frames_sampled == 1


def test_a_silent_stream_is_a_stall_and_the_reader_reconnects(device: DeviceEmulator, supervisors: Factory) -> None:
    device.scripts = [[heartbeat(), stall(30)], [heartbeat(), event("CrossLineDetection", "Pulse")]]
    sup, rec = run(supervisors, dahua(device))
    assert wait_until(lambda: rec.count() >= 1)
    assert "stalled" in rec.statuses() and rec.statuses()[-1] == "online"
    current = health(sup)
    assert current.reconnects >= 1 and "no heartbeat for 2s" in (current.last_error or "")
    assert rec.frames[0].hint["event"] == "CrossLineDetection" and len(device.attach_queries) >= 2


def test_events_mode_fetches_a_snapshot_per_start_and_view_events_feed_health(
    device: DeviceEmulator, supervisors: Factory
) -> None:
    device.scripts = [
        [
            event("CrossRegionDetection", "Start", LANE),
            event("CrossRegionDetection", "Start", LANE, index=3),  # an NVR's other channel
            event("CrossRegionDetection", "Stop", LANE),
            event("VideoBlind", "Start"),
        ],
        [event("VideoBlind", "Stop")],
    ]
    device.after = "hang"
    sup, rec = run(supervisors, dahua(device, mode="events"))
    assert wait_until(lambda: health(sup).view_problem == "covered" and rec.count() == 1)
    assert device.requests["snapshot.cgi"] == 1 and device.attach_queries[0]["codes"] == ["[All]"]
    assert rec.frames[0].hint["event"] == "CrossRegionDetection" and rec.frames[0].hint["channel"] == 1
    assert wait_until(lambda: health(sup).view_problem is None)  # after the stall, the reconnect's Stop clears it
    assert rec.count() == 1  # view events make no frames


def test_wrong_credentials_give_offline_with_a_clear_error_and_no_secret(
    device: DeviceEmulator, supervisors: Factory
) -> None:
    device.password = "Another-Password-9"
    sup, rec = run(supervisors, dahua(device))
    assert wait_until(lambda: health(sup).connect_failures >= 2)
    current = health(sup)
    assert current.status == "offline" and "not authorised" in (current.last_error or "")
    assert PASSWORD not in str(current.to_dict()) and rec.count() == 0


def test_an_answer_that_is_no_stream_is_explained(device: DeviceEmulator, supervisors: Factory) -> None:
    device.attach_answer = b"Error\r\nBad Request!\r\n"
    sup, _ = run(supervisors, dahua(device, events=("NoSuchEvent",)))
    assert wait_until(lambda: "Bad Request" in (health(sup).last_error or ""))
    assert health(sup).status == "offline" and "not a multipart answer" in (health(sup).last_error or "")


def test_stop_returns_promptly_while_the_stream_waits_for_a_heartbeat(
    device: DeviceEmulator, supervisors: Factory
) -> None:
    device.after = "hang"
    sup, rec = run(supervisors, dahua(device, heartbeat_s=60))  # reads may wait 120 s for data
    assert wait_until(lambda: rec.statuses()[-1:] == ["online"])
    assert sup.stop(timeout=5)  # the socket is shut: the reader thread ends well before its read timeout


# -- snapshot URL and ONVIF --------------------------------------------------------------------------------


@pytest.mark.parametrize(("device_auth", "auth"), [("basic", "basic"), ("digest", "digest"), ("basic", "auto")])
def test_snapshots_are_polled_with_the_auth_asked_for(
    device: DeviceEmulator, supervisors: Factory, device_auth: str, auth: str
) -> None:
    device.snapshot_auth = device_auth
    sup, rec = run(supervisors, snapshot(f"{device.url}/snap.jpg", auth=auth))
    assert wait_until(lambda: rec.count() >= 3)
    frames = list(rec.frames)
    assert all(f.source == "snapshot" and f.hint is None and f.encoded.startswith(b"\xff\xd8") for f in frames)
    assert len({f.encoded for f in frames}) == len(frames) and health(sup).status == "online"
    assert device_auth.capitalize() in device.authorizations
    if auth == "auto":  # one probe, then the scheme the device asked for on every request
        assert device.authorizations.count("") == 1


@pytest.mark.parametrize(
    ("answer", "options", "error"),
    [
        ({"snapshot_type": "text/html", "snapshot_body": b"<html>login</html>"}, {}, "not a JPEG or PNG picture"),
        ({"snapshot_body": jpeg(1, (400, 300))}, {"max_picture_bytes": 2000}, "refused"),
    ],
)
def test_refused_answers_are_counted_failures(
    device: DeviceEmulator, supervisors: Factory, answer: dict, options: dict, error: str
) -> None:
    for name, value in answer.items():
        setattr(device, name, value)
    sup, rec = run(supervisors, snapshot(f"{device.url}/snap.jpg"), options=replace(FAST, **options))
    assert wait_until(lambda: health(sup).decode_errors >= 2)
    assert health(sup).status == "offline" and error in (health(sup).last_error or "") and rec.count() == 0


def test_snapshot_wrong_password_is_offline_without_the_secret(device: DeviceEmulator, supervisors: Factory) -> None:
    url = f"http://admin:{PASSWORD}@127.0.0.1:{device.url.rsplit(':', 1)[1]}/snap.jpg"  # credentials in the URL
    device.password = "Changed-On-Device-1"
    sup, _ = run(supervisors, snapshot(url, username=None, password=None))
    assert wait_until(lambda: health(sup).connect_failures >= 1)
    text = str(health(sup).to_dict())
    assert "not authorised" in text and PASSWORD not in text


def test_an_unreachable_device_is_offline_with_the_reason(supervisors: Factory) -> None:
    sup, _ = run(supervisors, snapshot(f"http://127.0.0.1:{free_port()}/snap.jpg"))
    assert wait_until(lambda: health(sup).connect_failures >= 2)
    assert health(sup).status == "offline" and "cannot connect" in (health(sup).last_error or "")


def test_onvif_resolves_the_snapshot_url_and_again_after_a_failure(
    device: DeviceEmulator, supervisors: Factory
) -> None:
    sup, rec = run(supervisors, snapshot(f"{device.url}/onvif/device_service", onvif=True, profile="Profile_2"))
    assert wait_until(lambda: rec.count() >= 2)
    assert device.requests["GetSnapshotUri"] == 1 and device.requests["/onvif/snap-a.jpg"] >= 2
    device.onvif_snapshot_path = "/onvif/snap-b.jpg"  # the old URL now answers 404
    assert wait_until(lambda: device.requests["/onvif/snap-b.jpg"] >= 2)
    assert device.requests["GetSnapshotUri"] >= 2 and "404" in (health(sup).last_error or "")


def test_onvif_wrong_password_is_reported_as_such(device: DeviceEmulator, supervisors: Factory) -> None:
    device.password = "Changed-On-Device-1"
    sup, rec = run(supervisors, snapshot(f"{device.url}/onvif/device_service", onvif=True))
    assert wait_until(lambda: health(sup).connect_failures >= 1)
    current = health(sup)
    assert current.status == "offline" and "GetCapabilities: not authorised" in (current.last_error or "")
    assert PASSWORD not in str(current.to_dict()) and rec.count() == 0


def test_a_camera_changing_source_gets_the_other_reader(device: DeviceEmulator, supervisors: Factory) -> None:
    device.snapshot_auth = "none"
    device.scripts = [[event("CrossRegionDetection", "Start", LANE)]]
    sup, rec = run(supervisors, snapshot(f"{device.url}/snap.jpg"))
    assert wait_until(lambda: rec.count() >= 1)
    sup.apply([dahua(device, mode="events")])
    assert wait_until(lambda: any(f.source == "dahua" for f in list(rec.frames)))
    assert health(sup).frames_sampled >= 2  # the counters carried over


def test_onvif_password_digest_matches_the_onvif_guides_example() -> None:
    import base64

    nonce = base64.b64decode("LKqI6G/AikKCQrN0zqZFlg==")
    assert password_digest(nonce, "2010-09-16T07:50:45Z", "userpassword") == "tuOSpGlFlIXsozq4HFNeeGeFLEI="
    assert reachable("http://192.0.2.10:8080/snap?x=1", "http://cam.lan/onvif") == "http://cam.lan:8080/snap?x=1"


# -- the parsers -------------------------------------------------------------------------------------------

PICTURE = jpeg(7)
STREAM = (
    b"--myboundary\r\nContent-Type: text/plain\r\nContent-Length: 39\r\n\r\n"
    b"Code=VideoMotion;action=Start;index=0\r\n\r\n"
    b"junk between parts\r\n"
    b"--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n"
    b'--myboundary\r\nContent-Type: text/plain\r\n\r\nCode=A;action=Stop;index=0;data={\r\n "Name": "x"\r\n}\r\n'
    b"--myboundary\nContent-Type: text/plain\nContent-Length: 9\n\nHeartbeat\n"
    b"--myboundary\r\nContent-Type: image/jpeg\r\n\r\n%s\r\n"
    b"--myboundary--\r\n"
) % (len(PICTURE), PICTURE, PICTURE)


def expected_parts() -> list[tuple[str, bytes]]:
    return [
        ("text/plain", b"Code=VideoMotion;action=Start;index=0\r\n"),
        ("image/jpeg", PICTURE),
        ("text/plain", b'Code=A;action=Stop;index=0;data={\r\n "Name": "x"\r\n}'),
        ("text/plain", b"Heartbeat"),
        ("image/jpeg", PICTURE),
    ]


def feed(chunks: list[bytes], **limits: int) -> tuple[list[Part], MultipartStream]:
    parser = MultipartStream(boundary_of('multipart/x-mixed-replace; boundary="myboundary"'), **limits)
    return [part for chunk in chunks for part in parser.feed(chunk)], parser


def test_the_parser_gives_the_same_parts_however_the_stream_is_split() -> None:
    whole, parser = feed([STREAM])
    assert [(p.content_type, p.body) for p in whole] == expected_parts() and parser.closed
    assert [p.is_heartbeat for p in whole] == [False, False, False, True, False] and whole[4].is_image
    for at in range(1, len(STREAM)):
        parts, _ = feed([STREAM[:at], STREAM[at:]])
        assert [(p.content_type, p.body) for p in parts] == expected_parts(), f"split at byte {at}"
    bytewise, _ = feed([STREAM[i : i + 1] for i in range(len(STREAM))])
    assert [(p.content_type, p.body) for p in bytewise] == expected_parts()


def test_the_parser_takes_lf_only_streams_and_a_missing_blank_line() -> None:
    stream = b"--myboundary\nContent-Type: text/plain\n\nCode=X;action=Start;index=1\n--myboundary\n"
    stream += b"Content-Type: text/plain\nContent-Length: 27\nCode=Y;action=Start;index=0\n--myboundary--\n"
    parts, parser = feed([stream])
    assert [p.body for p in parts] == [b"Code=X;action=Start;index=1", b"Code=Y;action=Start;index=0"] and parser.closed


def test_the_parser_refuses_oversize_parts_and_headers() -> None:
    with pytest.raises(PartTooLarge):
        feed([b"--myboundary\r\nContent-Type: image/jpeg\r\nContent-Length: 5000\r\n\r\n"], max_part_bytes=4096)
    with pytest.raises(PartTooLarge):  # no Content-Length: found while scanning, fed in small pieces
        feed([b"--myboundary\r\nContent-Type: image/jpeg\r\n\r\n"] + [b"\xff" * 100] * 60, max_part_bytes=4096)
    with pytest.raises(MultipartError):
        feed([b"--myboundary\r\nX-Long: " + b"a" * 5000], max_header_bytes=1024)
    for content_type in ("text/plain", "multipart/x-mixed-replace", ""):
        with pytest.raises(MultipartError):
            boundary_of(content_type)
    assert boundary_of("multipart/x-mixed-replace;boundary=--abc") == "--abc"
    assert feed([b"----abc\r\n\r\nHeartbeat\r\n--abc--\r\n"])[0] == []  # other boundary: nothing taken


def test_dahua_event_text_of_both_streams_is_read() -> None:
    line = parse_event_lines('Code=CrossRegionDetection;action=Start;index=2;data={\n "Name": "Lane"\n}\n')
    assert [(e.code, e.action, e.index, e.data) for e in line] == [
        ("CrossRegionDetection", "Start", 2, {"Name": "Lane"})
    ]
    fields = parse_event_fields(
        "Events[0].EventBaseInfo.Code=CrossLineDetection\r\nEvents[0].EventBaseInfo.Action=Pulse\r\n"
        "Events[0].EventBaseInfo.Index=0\r\nEvents[0].Name=Gate\r\nEvents[0].Object.ObjectType=Human\r\n"
        + "".join(f"Events[0].Object.BoundingBox[{i}]={v}\r\n" for i, v in enumerate((0, 8191, 8191, 8191)))
    )
    assert fields[0].hint()["targets"] == [{"kind": "human", "box": (0.0, 1.0, 1.0, 1.0)}]
    assert (fields[0].code, fields[0].action, fields[0].hint()["region"]) == ("CrossLineDetection", "Pulse", "Gate")
