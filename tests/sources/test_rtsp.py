"""Readers and supervisor against a real RTSP server on 127.0.0.1 (GStreamer, looping H.264 clip).

Every wait is a bounded poll; no assertion is about speed. Server ports are chosen at run time.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from service.config.site import Camera
from service.sources import CameraHealth, OfflineEvent, StreamSupervisor
from service.vision.types import Frame
from tests.sources.conftest import rtsp_camera
from tests.sources.support.harness import RtspServer
from tests.support import free_port, wait_until

pytestmark = pytest.mark.slow
Factory = Callable[..., StreamSupervisor]


class Recorder:
    """Collects frames, health transitions and offline events from the supervisor's threads."""

    def __init__(self, sink_delay_s: float = 0.0) -> None:
        self.lock = threading.Lock()
        self.frames: list[Frame] = []
        self.transitions: list[tuple[str, str]] = []
        self.snapshots: list[CameraHealth] = []
        self.events: list[OfflineEvent] = []
        self.sink_delay_s = sink_delay_s

    def on_frame(self, frame: Frame) -> None:
        time.sleep(self.sink_delay_s)
        with self.lock:
            self.frames.append(frame)

    def on_health(self, current: CameraHealth, previous: CameraHealth | None) -> None:
        with self.lock:
            self.transitions.append((current.camera_id, current.status))
            self.snapshots.append(current)

    def on_offline(self, event: OfflineEvent) -> None:
        with self.lock:
            self.events.append(event)

    def statuses(self, camera_id: str) -> list[str]:
        with self.lock:
            return [s for c, s in self.transitions if c == camera_id]

    def count(self, camera_id: str) -> int:
        with self.lock:
            return sum(f.camera_id == camera_id for f in self.frames)

    def supervisor(self, make: Factory, **kwargs: object) -> StreamSupervisor:
        return make(self.on_frame, self.on_health, on_offline=self.on_offline, **kwargs)


def status(supervisor: StreamSupervisor, camera_id: str) -> str | None:
    current = supervisor.health().get(camera_id)
    return current.status if current else None


def test_samples_at_the_configured_interval_with_keyframes_only(rtsp_server: RtspServer, supervisors: Factory) -> None:
    rec = Recorder()
    registry = CollectorRegistry()
    sup = rec.supervisor(supervisors, registry=registry)
    sup.apply([rtsp_camera("gate", rtsp_server.url(), sample_interval_s=1.0)])
    assert wait_until(lambda: rec.count("gate") >= 5, timeout_s=20)
    with rec.lock:
        frames = list(rec.frames)
    for frame in frames:
        assert frame.source == "rtsp" and frame.image.shape == (240, 320, 3) and frame.image.dtype == "uint8"
        assert frame.captured_at.tzinfo is not None
        assert abs((datetime.now(UTC) - frame.captured_at).total_seconds()) < 30
    gaps = [(b.captured_at - a.captured_at).total_seconds() for a, b in itertools.pairwise(frames[1:])]
    assert all(0.5 <= gap <= 2.0 for gap in gaps), gaps  # one sample per ~1 s of stream time
    h = sup.health()["gate"]
    assert h.status == "online" and h.decode_mode == "keyframes" and h.view_problem is None
    assert h.frames_sampled >= 5 and h.frames_decoded <= h.frames_sampled + 1  # only what was sampled
    assert h.clock_offset_s is not None  # capture time came from the stream (RTCP sender report)
    assert rec.statuses("gate")[:2] == ["starting", "online"]
    assert registry.get_sample_value("clearway_camera_up", {"camera_id": "gate"}) == 1.0
    assert registry.get_sample_value("clearway_camera_frames_sampled_total", {"camera_id": "gate"}) >= 5


def test_full_decoding_when_configured(rtsp_server: RtspServer, supervisors: Factory) -> None:
    rec = Recorder()
    sup = rec.supervisor(supervisors)
    sup.apply([rtsp_camera("gate", rtsp_server.url(), sample_interval_s=1.0, decode="all")])
    assert wait_until(lambda: rec.count("gate") >= 3, timeout_s=20)
    h = sup.health()["gate"]
    assert h.decode_mode == "all" and h.frames_decoded >= 5 * h.frames_sampled  # ~10 fps decoded


def test_server_killed_and_restarted_reader_recovers(rtsp_server: RtspServer, supervisors: Factory) -> None:
    rec = Recorder()
    sup = rec.supervisor(supervisors)
    sup.apply([rtsp_camera("gate", rtsp_server.url())])
    assert wait_until(lambda: status(sup, "gate") == "online", timeout_s=20)
    rtsp_server.kill()
    assert wait_until(lambda: status(sup, "gate") == "offline", timeout_s=15)
    assert wait_until(lambda: sup.health()["gate"].connect_failures >= 1, timeout_s=10)  # refused while down
    before = rec.count("gate")
    rtsp_server.restart()
    assert wait_until(lambda: status(sup, "gate") == "online" and rec.count("gate") > before, timeout_s=20)
    h = sup.health()["gate"]
    assert h.reconnects >= 1 and "refused" in (h.last_error or "")
    assert rec.statuses("gate") == ["starting", "online", "offline", "online"]


def test_frozen_server_is_detected_as_stalled_and_nothing_hangs(rtsp_server: RtspServer, supervisors: Factory) -> None:
    rec = Recorder()
    sup = rec.supervisor(supervisors)
    sup.apply([rtsp_camera("gate", rtsp_server.url(), read_timeout_s=1.5, open_timeout_s=1.5)])
    assert wait_until(lambda: status(sup, "gate") == "online", timeout_s=20)
    rtsp_server.freeze()
    try:
        # read timeout, plus what the sockets had already buffered when the server stopped
        assert wait_until(lambda: "stalled" in rec.statuses("gate"), timeout_s=1.5 * 3 + 5)
        assert "no data for 1.5s" in (sup.health()["gate"].last_error or "")
        # reconnecting to a frozen server: the open times out too (the kernel still accepts the connection)
        assert wait_until(lambda: sup.health()["gate"].connect_failures >= 1, timeout_s=10)
        assert "open timed out" in (sup.health()["gate"].last_error or "")
        started = time.monotonic()
        assert sup.stop(timeout=5.0)  # the reader is mid-open on a silent socket and still stops
        assert time.monotonic() - started < 10
    finally:
        rtsp_server.thaw()


def test_wrong_path_is_an_error_with_backoff(rtsp_server: RtspServer, supervisors: Factory) -> None:
    rec = Recorder()
    sup = rec.supervisor(supervisors)
    sup.apply([rtsp_camera("gate", rtsp_server.url("/no-such-stream"))])
    assert wait_until(lambda: sup.health()["gate"].connect_failures >= 3, timeout_s=20)
    h = sup.health()["gate"]
    assert h.status == "offline" and "404" in (h.last_error or "")
    time.sleep(2.0)
    # backoff 0.2 s doubling to a 1 s cap (jittered): a handful of attempts, not a busy loop
    assert sup.health()["gate"].connect_failures - h.connect_failures <= 6
    assert rec.statuses("gate") == ["starting", "offline"]


def test_refused_connection_raises_camera_offline_then_clears(clip: Path, supervisors: Factory) -> None:
    port = free_port()
    rec = Recorder()
    sup = rec.supervisor(supervisors, offline_after_s=1.0)
    sup.apply([rtsp_camera("gate", f"rtsp://127.0.0.1:{port}/cam")])
    assert wait_until(lambda: status(sup, "gate") == "offline", timeout_s=15)
    assert "connection refused" in (sup.health()["gate"].last_error or "")
    assert wait_until(lambda: [e.action for e in rec.events] == ["raised"], timeout_s=10)
    assert sup.offline_alarms() == {"gate"}
    with RtspServer(clip, port=port):
        assert wait_until(lambda: [e.action for e in rec.events] == ["raised", "cleared"], timeout_s=20)
    assert rec.events[0].kind == "camera_offline" and rec.events[0].camera_id == "gate"
    assert sup.offline_alarms() == set()


def test_password_never_appears_in_logs_health_or_metrics(
    rtsp_server: RtspServer, supervisors: Factory, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    inline, separate = "Inl1ne-Pa55word", "Sep4rate-Pa55word"
    registry = CollectorRegistry()
    rec = Recorder()
    sup = rec.supervisor(supervisors, registry=registry)
    sup.apply(
        [
            rtsp_camera("good", rtsp_server.url(userinfo=f"admin:{inline}@")),
            rtsp_camera("bad", rtsp_server.url("/wrong", userinfo=f"admin:{inline}@")),
            rtsp_camera("sep", rtsp_server.url("/wrong"), username="admin", password=separate),
        ]
    )
    assert wait_until(lambda: status(sup, "good") == "online", timeout_s=20)
    assert wait_until(lambda: all(sup.health()[c].connect_failures >= 2 for c in ("bad", "sep")), timeout_s=20)
    texts = [generate_latest(registry).decode(), *(repr(h) + str(h.to_dict()) for h in sup.health().values())]
    assert len(texts) == 4
    sup.stop(timeout=5)
    texts += [caplog.text, *capfd.readouterr(), repr(rec.snapshots)]
    assert "404" in caplog.text and "rtsp://***@127.0.0.1" in caplog.text
    for text in texts:
        assert inline not in text and separate not in text


def test_apply_starts_stops_and_restarts_only_what_changed(rtsp_server: RtspServer, supervisors: Factory) -> None:
    rec = Recorder()
    sup = rec.supervisor(supervisors)
    a, b = rtsp_camera("a", rtsp_server.url()), rtsp_camera("b", rtsp_server.url())
    push = Camera(id="p", compound="c1")
    sup.apply([a, push])
    assert wait_until(lambda: status(sup, "a") == "online", timeout_s=20)
    assert set(sup.health()) == {"a"}
    sup.apply([a, b, push])
    assert wait_until(lambda: status(sup, "b") == "online", timeout_s=20)
    sampled_a = sup.health()["a"].frames_sampled
    assert rec.statuses("a") == ["starting", "online"]  # untouched by adding b
    b2 = rtsp_camera("b", rtsp_server.url(), sample_interval_s=0.5)
    sampled_b = sup.health()["b"].frames_sampled
    sup.apply([b2])
    assert "a" not in sup.health()
    assert wait_until(lambda: status(sup, "b") == "online" and rec.statuses("b")[-2:] == ["starting", "online"], 20)
    assert sup.health()["b"].frames_sampled >= sampled_b  # counters carried over the restart
    time.sleep(1.5)
    with rec.lock:
        assert all(f.camera_id != "a" for f in rec.frames[-3:])  # the removed reader delivers nothing more
    assert sampled_a > 0


def test_slow_sink_keeps_the_newest_frame_and_counts_drops(rtsp_server: RtspServer, supervisors: Factory) -> None:
    rec = Recorder(sink_delay_s=1.0)
    sup = rec.supervisor(supervisors)
    sup.apply([rtsp_camera("gate", rtsp_server.url(), sample_interval_s=0.2, decode="all")])
    assert wait_until(lambda: sup.health()["gate"].frames_dropped >= 3 and rec.count("gate") >= 2, timeout_s=20)
    with rec.lock:
        times = [f.captured_at for f in rec.frames]
    assert times == sorted(times)
    h = sup.health()["gate"]
    assert h.frames_sampled >= h.frames_dropped + rec.count("gate")
