"""Dwell logic on scripted frame sequences with capture times (no model, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.config.site import Camera, Zone
from service.hazards.engine import CameraState, HazardEngine, Tuning
from tests.support import detections

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
W, H = 1000, 1000
PARKED = ("car", "vehicle", (400, 600, 600, 800))  # ground point (500, 800): inside the lane
LANE = Zone(id="lane", type="fire_lane", polygon=[(0.2, 0.5), (0.8, 0.5), (0.8, 1.0), (0.2, 1.0)], dwell_seconds=300)
CAMERA = Camera(id="cam", compound="c", zones=[LANE], masks=[[(0.0, 0.0), (0.2, 0.0), (0.2, 0.2), (0.0, 0.2)]])


def run(engine: HazardEngine, state: CameraState, seconds: float, *objects) -> list:
    obs = engine.observe(state, T0 + timedelta(seconds=seconds), detections(*objects), f"f{seconds}", W, H)
    return [(c.kind, c.zone_id) for c in obs.changes]


def test_single_frame_opens_nothing() -> None:
    engine, state = HazardEngine(CAMERA), CameraState()
    assert run(engine, state, 0, PARKED) == []


def test_parked_car_opens_exactly_one_hazard_after_dwell() -> None:
    engine, state = HazardEngine(CAMERA), CameraState()
    changes = []
    for t in range(0, 601, 60):
        changes += run(engine, state, t, PARKED)
    assert changes.count(("opened", "lane")) == 1
    opened_at = next(i for i, c in enumerate(changes) if c[0] == "opened")
    assert all(c == ("updated", "lane") for c in changes[opened_at + 1 :])
    assert state.tracks[0].zone_since["lane"] == T0


def test_opens_at_dwell_time_measured_on_capture_times_not_frames() -> None:
    engine, state = HazardEngine(CAMERA), CameraState()
    assert run(engine, state, 0, PARKED) == []
    assert run(engine, state, 299, PARKED) == []
    assert run(engine, state, 300, PARKED) == [("opened", "lane")]


def test_car_driving_through_never_opens() -> None:
    engine, state = HazardEngine(CAMERA), CameraState()
    changes = []
    for i, t in enumerate(range(0, 400, 5)):
        x = 100 + i * 60  # moves 60 px per frame, 5 s apart, leaves the lane after a few frames
        changes += run(engine, state, t, ("car", "vehicle", (x, 600, x + 200, 800)))
    assert [c for c in changes if c[0] == "opened"] == []


def test_gone_for_clear_interval_clears_once() -> None:
    engine, state = HazardEngine(CAMERA, Tuning(clear_after_s=60, clear_after_misses=3)), CameraState()
    for t in (0, 150, 300):
        run(engine, state, t, PARKED)
    assert run(engine, state, 320) == []  # one miss: tolerated
    assert run(engine, state, 340) == []  # two misses, 40 s
    assert run(engine, state, 360) == [("cleared", "lane")]  # three misses spanning 60 s
    assert state.tracks == []
    assert run(engine, state, 380) == []  # cleared only once


def test_clear_reports_cleared_change() -> None:
    engine, state = HazardEngine(CAMERA, Tuning(clear_after_s=60, clear_after_misses=2)), CameraState()
    for t in (0, 300):
        run(engine, state, t, PARKED)
    assert run(engine, state, 330) == []
    assert run(engine, state, 400) == [("cleared", "lane")]


def test_a_few_missed_detections_do_not_reset_the_dwell_clock() -> None:
    engine, state = HazardEngine(CAMERA, Tuning(clear_after_s=60, clear_after_misses=3)), CameraState()
    run(engine, state, 0, PARKED)
    run(engine, state, 100)  # occluded by a passing van
    run(engine, state, 200)
    assert run(engine, state, 300, PARKED) == [("opened", "lane")]


def test_object_moving_out_of_zone_clears_its_hazard() -> None:
    engine, state = HazardEngine(CAMERA), CameraState()
    at_edge = ("car", "vehicle", (400, 420, 600, 620))  # ground point just inside the lane
    run(engine, state, 0, at_edge)
    run(engine, state, 300, at_edge)
    pulled_out = ("car", "vehicle", (400, 300, 600, 495))  # same car (matched by centre), now outside
    assert run(engine, state, 310, pulled_out) == []  # exit inertia: one frame outside is not leaving
    assert run(engine, state, 340, pulled_out) == []
    assert run(engine, state, 370, pulled_out) == [("cleared", "lane")]  # 3 frames over 70 s since last inside
    assert len(state.tracks) == 1


def test_late_frames_are_late_and_a_duplicate_time_too() -> None:
    engine, state = HazardEngine(CAMERA), CameraState()
    run(engine, state, 100, PARKED)
    obs = engine.observe(state, T0, detections(PARKED), "old", W, H)
    assert obs.late and obs.changes == []
    obs = engine.observe(state, T0 + timedelta(seconds=100), detections(PARKED), "same", W, H)
    assert obs.late
    assert run(engine, state, 400, PARKED) == [("opened", "lane")]


def test_state_survives_a_restart_mid_dwell() -> None:
    engine, state = HazardEngine(CAMERA), CameraState()
    run(engine, state, 0, PARKED)
    run(engine, state, 200, PARKED)
    restored = CameraState.from_json(state.to_json())
    assert run(HazardEngine(CAMERA), restored, 300, PARKED) == [("opened", "lane")]


def test_persons_masked_and_uncounted_categories_never_open() -> None:
    engine, state = HazardEngine(CAMERA), CameraState()
    person = ("person", "person", (400, 600, 600, 800))
    masked_box = ("chair", "clutter", (10, 10, 100, 150))  # ground point in the mask (top-left)
    for t in (0, 400, 800):
        assert run(engine, state, t, person, masked_box) == []
    stair = Camera(id="s", compound="c", zones=[Zone(id="st", type="stairwell", polygon=LANE.polygon)])
    engine, state = HazardEngine(stair), CameraState()
    for t in (0, 400, 800):  # stairwells count two-wheelers and clutter, not cars
        assert run(engine, state, t, PARKED) == []


def test_two_parked_objects_open_two_hazards() -> None:
    engine, state = HazardEngine(CAMERA), CameraState()
    other = ("motorcycle", "two_wheeler", (650, 700, 760, 900))
    changes = []
    for t in (0, 150, 300):
        changes += run(engine, state, t, PARKED, other)
    assert sorted(c for c in changes if c[0] == "opened") == [("opened", "lane"), ("opened", "lane")]
    assert len({t.uid for t in state.tracks}) == 2


def test_overlap_fraction_counts_a_box_whose_ground_point_is_outside() -> None:
    zone = Zone(id="z", type="fire_lane", polygon=[(0.0, 0.0), (1.0, 0.0), (1.0, 0.5), (0.0, 0.5)], min_overlap=0.5)
    engine = HazardEngine(Camera(id="c2", compound="c", zones=[zone]))
    mostly_inside = detections(("car", "vehicle", (100, 100, 300, 600)))  # 80% inside, ground point outside
    assert engine.zones_for(mostly_inside, W, H) == [["z"]]
    barely = detections(("car", "vehicle", (100, 400, 300, 900)))  # 20% inside
    assert engine.zones_for(barely, W, H) == [[]]
