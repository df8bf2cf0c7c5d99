"""Alerts people can trust: exit inertia (a nudged camera, a jittering box) and late, reordered frames (a
gateway's backlog sent newest first), on scripted frame sequences with capture times."""

from __future__ import annotations

from datetime import timedelta

from service.config.arming import ArmingSchedule
from service.hazards.engine import CameraState, HazardEngine, Tuning
from tests.hazards.test_engine import CAMERA, LANE, PARKED, T0, H, W, run
from tests.support import detections

TUNING = Tuning(clear_after_s=60, clear_after_misses=3)
NUDGED = ("car", "vehicle", (400, 280, 600, 480))  # the camera moved: the same car's box now ends above the lane


def parked_for(engine: HazardEngine, state: CameraState, until: int) -> None:
    for t in range(0, until + 1, 60):
        run(engine, state, t, PARKED)


def test_one_frame_outside_the_zone_neither_clears_nor_restarts_the_dwell() -> None:
    engine, state = HazardEngine(CAMERA, TUNING), CameraState()
    run(engine, state, 0, PARKED)
    run(engine, state, 100, NUDGED)  # one gust of wind during the dwell
    assert run(engine, state, 300, PARKED) == [("opened", "lane")]  # the dwell still counts from 0 s
    assert run(engine, state, 310, NUDGED) == []  # and the hazard survives a wobble after opening
    assert run(engine, state, 320, PARKED) == [("updated", "lane")]
    assert run(engine, state, 330, NUDGED) == []
    assert run(engine, state, 350, NUDGED) == []  # two frames outside, 30 s: not yet
    assert run(engine, state, 400, PARKED) == [("updated", "lane")]  # back: the same hazard, no new one


def test_the_same_parked_car_never_alerts_again_and_again() -> None:
    """The peers' top complaint: a PTZ wobble every few minutes opened a new hazard each time."""
    engine, state = HazardEngine(CAMERA, TUNING), CameraState()
    changes = []
    for n, t in enumerate(range(0, 3600, 60)):
        changes += run(engine, state, t, NUDGED if n % 5 == 4 else PARKED)
    assert changes.count(("opened", "lane")) == 1 and ("cleared", "lane") not in changes


def test_leaving_takes_the_configured_frames_and_time_seen_outside_or_unseen() -> None:
    engine, state = HazardEngine(CAMERA, TUNING), CameraState()
    parked_for(engine, state, 300)
    assert run(engine, state, 310, NUDGED) == []
    assert run(engine, state, 320) == []  # not seen counts as outside
    assert run(engine, state, 350, NUDGED) == []  # 3 frames but only 50 s since last inside
    assert run(engine, state, 361, NUDGED) == [("cleared", "lane")]
    assert run(engine, state, 700, PARKED) == []  # it came back: a new dwell, from 700 s
    assert run(engine, state, 1000, PARKED) == [("opened", "lane")]


def test_a_backlog_sent_newest_first_opens_one_hazard_from_the_oldest_sighting() -> None:
    engine, state = HazardEngine(CAMERA, TUNING), CameraState()
    opened = []
    for t in range(3600, -1, -300):  # an hour of the car parked, uploaded newest first
        obs = engine.observe(state, T0 + timedelta(seconds=t), detections(PARKED), f"f{t}", W, H)
        assert obs.late == (t < 3600)
        opened += [c for c in obs.changes if c.kind == "opened"]
        earlier = [c.first_seen_at for c in obs.changes if c.kind == "earlier"]
        assert earlier == ([T0 + timedelta(seconds=t)] if t < 3300 else [])  # the open hazard learns each one
    assert len(opened) == 1
    assert opened[0].at == T0 + timedelta(seconds=3600)  # opened at the newest time seen
    assert opened[0].first_seen_at == T0 + timedelta(seconds=3300)  # the dwell was complete as soon as 5 min show
    track = state.tracks[0]
    assert track.zone_since["lane"] == T0 and track.first_seen == T0  # the whole backlog moved the start back
    assert state.last_captured_at == T0 + timedelta(seconds=3600)
    assert run(engine, state, 3660, PARKED) == [("updated", "lane")]  # live frames carry on with the same hazard


def test_a_backlog_in_any_order_opens_exactly_one_hazard() -> None:
    engine, state = HazardEngine(CAMERA, TUNING), CameraState()
    changes = []
    for t in (1200, 0, 2400, 600, 1800, 300):
        changes += run(engine, state, t, PARKED)
    assert changes.count(("opened", "lane")) == 1


def test_late_frames_never_clear_and_create_no_track() -> None:
    engine, state = HazardEngine(CAMERA, TUNING), CameraState()
    parked_for(engine, state, 600)
    for t in (100, 200, 300):  # older frames without the car (or with another one), arriving late
        obs = engine.observe(
            state, T0 + timedelta(seconds=t), detections(("car", "vehicle", (0, 0, 50, 50))), "x", W, H
        )
        assert obs.late and obs.changes == []
    assert len(state.tracks) == 1 and state.tracks[0].misses == 0
    assert state.tracks[0].open_hazards == ["lane"]


def test_a_state_saved_before_exit_inertia_loads_and_keeps_its_hazard() -> None:
    engine, state = HazardEngine(CAMERA, TUNING), CameraState()
    parked_for(engine, state, 300)
    old = state.to_json()
    for track in old["tracks"]:
        del track["zone_last_in"], track["zone_out_frames"]
    restored = CameraState.from_json(old)
    assert run(engine, restored, 360, PARKED) == [("updated", "lane")]
    assert run(engine, restored, 370, NUDGED) == []


def test_a_disarmed_zone_opens_nothing_and_opens_when_armed_again_if_the_object_stayed() -> None:
    """A lane that is a market for a while: T0 is 16:00 site time (Shanghai, UTC+8), the window 16:00-16:10."""
    market = {"disarmed": [{"from": "16:00", "to": "16:10"}]}
    lane = LANE.model_copy(update={"arming": ArmingSchedule.model_validate(market)})
    engine, state = HazardEngine(CAMERA.model_copy(update={"zones": [lane]}), TUNING), CameraState()
    changes = []
    for t in range(0, 600, 60):  # parked through the market hours: the dwell is met at 300 s, but disarmed
        changes += run(engine, state, t, PARKED)
    assert ("opened", "lane") not in changes
    assert run(engine, state, 600, PARKED) == [("opened", "lane")]  # 16:10: armed again, still there
