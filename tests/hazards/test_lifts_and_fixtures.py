"""Lifts and fixtures in the dwell engine, on scripted frames (no model, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from service.config.site import Camera, Zone
from service.hazards.engine import CameraState, HazardEngine, Tuning
from service.hazards.fixtures import FixtureMark, as_fraction
from tests.support import detections

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
W, H = 1000, 1000
LIFT = Zone(id="lift", type="elevator", polygon=[(0.0, 0.2), (1.0, 0.2), (1.0, 1.0), (0.0, 1.0)])
LIFT_CAMERA = Camera(id="lift-cam", compound="c", zones=[LIFT])
EBIKE = ("motorcycle", "two_wheeler", (300, 400, 700, 950))
BICYCLE = ("bicycle", "two_wheeler", (300, 400, 700, 950))
STROLLER_AS_CLUTTER = ("unknown_object", "clutter", (300, 400, 700, 950))  # what the background model would add
LANE = Zone(id="lane", type="fire_lane", polygon=[(0.2, 0.5), (0.8, 0.5), (0.8, 1.0), (0.2, 1.0)], dwell_seconds=300)
LANE_CAMERA = Camera(id="cam", compound="c", zones=[LANE])
KIOSK = ("car", "vehicle", (400, 600, 600, 800))
FAST = Tuning(clear_after_s=10, clear_after_misses=2)


def run(engine: HazardEngine, state: CameraState, seconds: float, *objects, fixtures=()) -> list:
    at = T0 + timedelta(seconds=seconds)
    obs = engine.observe(state, at, detections(*objects), f"f{seconds}", W, H, fixtures)
    return [(c.kind.value, c.zone_id) for c in obs.changes]


def test_a_lift_counts_an_entry_at_once_and_opens_its_hazard_within_seconds() -> None:
    assert LIFT.effective_dwell_seconds == 5 and LIFT.effective_lift_commands == ("voice_warning", "door_hold")
    engine, state = HazardEngine(LIFT_CAMERA, FAST), CameraState()
    assert run(engine, state, 0, EBIKE) == [("entered", "lift")]
    assert run(engine, state, 2, EBIKE) == []
    assert run(engine, state, 5, EBIKE) == [("opened", "lift")]
    assert run(engine, state, 7, EBIKE) == [("updated", "lift")]
    for t in (8, 12, 20):
        changes = run(engine, state, t)
    assert changes == [("cleared", "lift")]
    assert run(engine, state, 30, EBIKE) == [("entered", "lift")]  # the next ride is a new entry


def test_a_ride_shorter_than_the_dwell_is_an_entry_without_a_hazard() -> None:
    engine, state = HazardEngine(LIFT_CAMERA, FAST), CameraState()
    changes = run(engine, state, 0, EBIKE) + run(engine, state, 3, EBIKE)
    for t in (4, 9, 16):
        changes += run(engine, state, t)
    assert changes == [("entered", "lift")]


def test_bicycles_strollers_and_wheelchairs_do_not_count_in_a_lift() -> None:
    engine, state = HazardEngine(LIFT_CAMERA, FAST), CameraState()
    for t in (0, 5, 10, 20):
        assert run(engine, state, t, BICYCLE, STROLLER_AS_CLUTTER) == []
    counting_bicycles = LIFT.model_copy(update={"classes": ("motorcycle", "bicycle")})
    engine = HazardEngine(Camera(id="lift-cam", compound="c", zones=[counting_bicycles]), FAST)
    assert run(engine, CameraState(), 0, BICYCLE) == [("entered", "lift")]


def test_lift_commands_belong_to_lifts() -> None:
    with pytest.raises(ValidationError, match="lift_commands are for zones of type elevator"):
        Zone(id="lane", type="fire_lane", polygon=LANE.polygon, lift_commands=["door_hold"])
    assert LANE.effective_lift_commands == () and LANE.effective_classes is None


def mark(box=KIOSK[2], category="vehicle", days: float = 30) -> FixtureMark:
    return FixtureMark(7, category, "car", tuple(as_fraction(box, W, H)), T0 + timedelta(days=days))


def test_a_fixture_is_ignored_where_it_stands_and_said_so() -> None:
    engine, state = HazardEngine(LANE_CAMERA), CameraState()
    for t in range(0, 901, 150):
        obs = engine.observe(state, T0 + timedelta(seconds=t), detections(KIOSK), f"f{t}", W, H, [mark()])
        assert obs.changes == [] and not obs.any_in_zone
    record = obs.detections.to_records()[0]
    assert record["fixture"] == 7 and record["zones"] == [] and record["track_id"] == -1
    assert state.tracks == []  # not even tracked


def test_a_fixture_mark_holds_only_for_its_kind_its_place_and_its_time() -> None:
    moved = (100, 600, 300, 800)  # in the lane, but elsewhere: IoU 0
    for objects, fixtures, times in (
        ((("car", "vehicle", moved),), [mark()], (0, 150, 300)),  # another place
        ((("boxes", "clutter", KIOSK[2]),), [mark()], (0, 150, 300)),  # another kind in the same place
        ((KIOSK,), [mark(days=0.001)], (0, 150, 300, 450)),  # the mark expires after 86 s: dwell from 150
    ):
        engine, state = HazardEngine(LANE_CAMERA), CameraState()
        changes = [change for t in times for change in run(engine, state, t, *objects, fixtures=fixtures)]
        assert changes == [("opened", "lane")], objects
        assert state.tracks[0].zone_since["lane"] == T0 + timedelta(seconds=times[-3])


def test_a_fixture_forgives_a_class_flip_and_a_small_shift() -> None:
    engine, state = HazardEngine(LANE_CAMERA), CameraState()
    truck_nudged = ("truck", "vehicle", (420, 610, 620, 810))
    for t in (0, 150, 300, 450):
        assert run(engine, state, t, truck_nudged, fixtures=[mark()]) == []


def test_a_hazard_open_before_the_mark_clears_once_its_object_is_a_fixture() -> None:
    engine, state = HazardEngine(LANE_CAMERA, FAST), CameraState()
    changes = [change for t in (0, 150, 300) for change in run(engine, state, t, KIOSK)]
    assert changes == [("opened", "lane")]
    after = [change for t in (310, 320, 330) for change in run(engine, state, t, KIOSK, fixtures=[mark()])]
    assert after == [("cleared", "lane")]  # the writer finds it dismissed already and leaves it so
