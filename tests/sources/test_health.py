"""Pure parts of camera health: the offline alarm, view checks, metrics, URLs, backoff, frame hand-off."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import av.error
import cv2
import numpy as np
import pytest
from prometheus_client import CollectorRegistry, generate_latest

from service.config.site import RtspSource
from service.sources.decode import SampleSchedule
from service.sources.health import CameraHealth, HealthState, OfflineAlarm
from service.sources.metrics import StreamMetrics
from service.sources.reader import ReaderOptions, backoff_delay, describe_error
from service.sources.supervisor import LatestFrames
from service.sources.urls import display_url, effective_url, redact, secrets_of
from service.sources.view import ViewMonitor, ViewThresholds
from service.vision.types import Frame
from tests.sources.support.harness import bus_photo

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def health(status: str, since_s: float, camera_id: str = "cam1") -> CameraHealth:
    return CameraHealth(camera_id, status=status, status_since=at(since_s))  # type: ignore[arg-type]


# -- offline alarm ---------------------------------------------------------------------------------


def test_offline_alarm_raises_once_after_threshold_and_clears_when_online() -> None:
    alarm = OfflineAlarm(offline_after_s=300)
    assert alarm.observe(health("online", 0), at(0)) == []
    assert alarm.observe(health("offline", 10), at(10)) == []
    assert alarm.due(at(309)) == []
    raised = alarm.due(at(310))
    assert [(e.camera_id, e.action, e.kind, e.down_since) for e in raised] == [
        ("cam1", "raised", "camera_offline", at(10))
    ]
    assert alarm.due(at(900)) == []  # raised once
    assert alarm.raised() == {"cam1"}
    cleared = alarm.observe(health("online", 950), at(950))
    assert [(e.action, e.down_since, e.at) for e in cleared] == [("cleared", at(10), at(950))]
    assert alarm.raised() == set()


def test_offline_alarm_ignores_short_outages_and_counts_stalled_as_down() -> None:
    alarm = OfflineAlarm(offline_after_s=60)
    alarm.observe(health("stalled", 0), at(0))
    alarm.observe(health("offline", 5), at(5))  # still the same outage: it began at 0
    alarm.observe(health("starting", 20), at(20))  # reader restarted by a config change: still down
    assert alarm.observe(health("online", 30), at(30)) == []  # back before the threshold: nothing to say
    assert alarm.due(at(1000)) == []
    alarm.observe(health("stalled", 100), at(100))
    assert [e.status for e in alarm.due(at(160))] == ["stalled"]


def test_offline_alarm_raised_on_transition_when_already_overdue_and_cleared_on_removal() -> None:
    alarm = OfflineAlarm(offline_after_s=0)
    assert [e.action for e in alarm.observe(health("offline", 0), at(0))] == ["raised"]
    assert [e.action for e in alarm.forget("cam1", at(5))] == ["cleared"]
    assert alarm.forget("cam1", at(6)) == []
    with pytest.raises(ValueError):
        OfflineAlarm(-1)


def test_health_state_notifies_on_transitions_only_and_ignores_updates_after_detach() -> None:
    seen: list[tuple[str, str | None]] = []
    state = HealthState(CameraHealth("cam1"), lambda new, old: seen.append((new.status, old and old.status)))
    state.announce()
    state.update(status="online")
    state.add(frames_sampled=1)
    state.update(status="online")
    state.update(view_problem="black")
    state.detach()
    state.update(status="offline")
    state.add(frames_sampled=5)
    assert seen == [("starting", None), ("online", "starting"), ("online", "online")]
    assert state.snapshot().frames_sampled == 1
    assert state.snapshot().to_dict()["status_since"].endswith("+00:00")


# -- view checks ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    image = cv2.imread(str(bus_photo()))
    assert image is not None
    return cv2.resize(image, (320, 240))


def noisy(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return np.clip(image.astype(np.int16) + rng.integers(-4, 5, image.shape), 0, 255).astype(np.uint8)


def run_monitor(frames: list[np.ndarray], step_s: float = 5.0, **thresholds: float) -> list[str | None]:
    monitor = ViewMonitor(ViewThresholds(**thresholds))
    return [monitor.update(frame, i * step_s) for i, frame in enumerate(frames)]


def test_view_of_a_real_scene_with_sensor_noise_is_fine(scene: np.ndarray) -> None:
    rng = np.random.default_rng(1)
    assert run_monitor([noisy(scene, rng) for _ in range(30)]) == [None] * 30


def test_black_view_needs_confirmation_then_clears(scene: np.ndarray) -> None:
    rng = np.random.default_rng(2)
    black = [np.clip(rng.normal(4, 2, scene.shape), 0, 255).astype(np.uint8) for _ in range(4)]
    flags = run_monitor([noisy(scene, rng), *black, noisy(scene, rng), noisy(scene, rng)])
    assert flags == [None, None, None, "black", "black", "black", None]


def test_covered_lens_uniform_or_featureless(scene: np.ndarray) -> None:
    grey = np.full_like(scene, 128)
    assert run_monitor([grey] * 3)[-1] == "covered"
    rng = np.random.default_rng(3)
    ramp = np.repeat(np.linspace(100, 140, scene.shape[1])[None, :, None], scene.shape[0], 0).repeat(3, 2)
    smeared = [noisy(ramp.astype(np.uint8), rng) for _ in range(3)]  # paint or cloth: shading, no edges
    assert run_monitor(smeared)[-1] == "covered"


def test_frozen_view_flagged_only_after_the_configured_time(scene: np.ndarray) -> None:
    flags = run_monitor([scene] * 20, step_s=5.0, frozen_after_s=60.0)
    assert flags[:14] == [None] * 14  # identical for 60 s, then three confirmations
    assert flags[-1] == "frozen"
    rng = np.random.default_rng(4)
    assert run_monitor([noisy(scene, rng) for _ in range(20)], frozen_after_s=60.0)[-1] is None


# -- metrics ---------------------------------------------------------------------------------------


def test_metrics_collector_reports_current_cameras_on_its_own_registry() -> None:
    cameras = {
        "a": CameraHealth("a", status="online", last_frame_at=T0, frames_sampled=7, reconnects=2),
        "b": CameraHealth("b", status="stalled", view_problem="covered", decode_mode="keyframes"),
    }
    registry = CollectorRegistry()
    StreamMetrics(registry, lambda: cameras)
    value = registry.get_sample_value
    assert value("clearway_camera_up", {"camera_id": "a"}) == 1.0
    assert value("clearway_camera_status", {"camera_id": "b", "status": "stalled"}) == 1.0
    assert value("clearway_camera_status", {"camera_id": "b", "status": "online"}) == 0.0
    assert value("clearway_camera_frames_sampled_total", {"camera_id": "a"}) == 7.0
    assert value("clearway_camera_reconnects_total", {"camera_id": "a"}) == 2.0
    assert value("clearway_camera_view_problem", {"camera_id": "b", "problem": "covered"}) == 1.0
    assert value("clearway_camera_last_frame_timestamp_seconds", {"camera_id": "a"}) == T0.timestamp()
    assert value("clearway_camera_keyframe_only", {"camera_id": "b"}) == 1.0
    del cameras["b"]
    assert 'camera_id="b"' not in generate_latest(registry).decode()  # removed camera: no stale series


# -- URLs and errors -------------------------------------------------------------------------------


def test_credentials_are_applied_and_redacted() -> None:
    separate = RtspSource(url="rtsp://10.0.0.5:554/Streaming/101", username="admin", password="p@ss:w/rd!")
    assert effective_url(separate) == "rtsp://admin:p%40ss%3Aw%2Frd%21@10.0.0.5:554/Streaming/101"
    inline = RtspSource(url="rtsp://admin:hunter22@10.0.0.5/live")
    assert effective_url(inline) == inline.url
    assert display_url(inline) == "rtsp://***@10.0.0.5/live"
    for source in (separate, inline):
        secrets = secrets_of(source)
        text = f"failed {effective_url(source)} password={source.password or 'hunter22'}"
        cleaned = redact(text, secrets)
        assert "hunter22" not in cleaned and "p@ss:w/rd!" not in cleaned and "p%40ss" not in cleaned


def test_errors_are_classified_without_the_url() -> None:
    source = RtspSource(url="rtsp://u:topsecret@h/x", open_timeout_s=3, read_timeout_s=4)
    not_found = av.error.HTTPNotFoundError(-1, "Server returned 404 Not Found", effective_url(source))
    assert describe_error(not_found, "open", source) == (
        "offline",
        "open failed: 404 Not Found (wrong stream path?)",
    )
    assert describe_error(av.error.ExitError(-1, "Immediate exit", source.url), "read", source)[0] == "stalled"
    assert describe_error(av.error.ExitError(-1, "x", source.url), "open", source)[1] == "open timed out after 3s"
    status, message = describe_error(OSError(f"boom {source.url}"), "read", source)
    assert status == "offline" and "topsecret" not in message


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    options = ReaderOptions(backoff_initial_s=1.0, backoff_max_s=60.0)
    rng = random.Random(5)
    delays = [[backoff_delay(n, options, rng) for _ in range(200)] for n in range(10)]
    for n, values in enumerate(delays):
        nominal = min(60.0, 2.0**n)
        assert nominal / 2 <= min(values) and max(values) <= nominal
        assert max(values) - min(values) > nominal / 4  # jittered
    assert max(delays[-1]) <= 60.0


# -- sampling schedule and frame hand-off -----------------------------------------------------------


def test_schedule_keeps_the_interval_without_drift() -> None:
    schedule = SampleSchedule(5.0)
    taken = []
    for i in range(200):  # a keyframe every 2 s
        t = i * 2.0
        if schedule.is_due(t, slack=1.0):
            schedule.taken(t)
            taken.append(t)
    gaps = np.diff(taken)
    assert 4.0 <= gaps.mean() <= 6.0 and gaps.min() >= 4.0
    schedule.taken(10_000.0)  # clock jump: restart from there
    assert schedule.next_due == 10_005.0


def test_latest_frames_keeps_the_newest_per_camera() -> None:
    frames = LatestFrames()
    image = np.zeros((2, 2, 3), np.uint8)

    def frame(camera_id: str, second: int) -> Frame:
        return Frame(camera_id, at(second), image, source="rtsp")

    assert frames.put(frame("a", 1)) is False
    assert frames.put(frame("b", 1)) is False
    assert frames.put(frame("a", 2)) is True  # dropped a's first frame
    got = [frames.get(0.1), frames.get(0.1), frames.get(0.01)]
    assert [(f.camera_id, f.captured_at) if f else None for f in got] == [("b", at(1)), ("a", at(2)), None]
    frames.put(frame("c", 3))
    frames.discard("c")
    assert frames.get(0.01) is None
    assert replace(CameraHealth("x"), frames_dropped=1).frames_dropped == 1
