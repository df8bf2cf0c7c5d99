"""Track matching across sparse frames: IoU first, then centre distance, never across categories; JSON round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from service.hazards.tracker import Track, match
from service.vision.types import Detections
from tests.support import detections

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def track(uid: str, category: str, box: tuple[float, float, float, float]) -> Track:
    return Track(uid, category, "car" if category == "vehicle" else "bicycle", list(box), 0.9, T0, T0)


def test_same_object_matches_its_track_by_iou() -> None:
    tracks = [track("a", "vehicle", (0, 0, 100, 100)), track("b", "vehicle", (300, 300, 400, 400))]
    found = detections(("car", "vehicle", (302, 298, 402, 398)), ("car", "vehicle", (2, 1, 101, 99)))
    assert sorted(match(tracks, found, min_iou=0.3)) == [(0, 1), (1, 0)]


def test_each_detection_goes_to_the_track_it_overlaps_most_and_only_once() -> None:
    tracks = [track("a", "vehicle", (0, 0, 100, 100)), track("b", "vehicle", (40, 0, 140, 100))]
    found = detections(("car", "vehicle", (38, 0, 138, 100)))  # IoU 0.45 with a, 0.96 with b
    assert match(tracks, found, min_iou=0.3) == [(1, 0)]


def test_a_shifted_box_below_min_iou_matches_on_centre_distance() -> None:
    tracks = [track("a", "vehicle", (0, 0, 100, 100))]
    shifted = detections(("car", "vehicle", (60, 0, 160, 100)))  # IoU 0.25; centre 60 px off, diagonal 141 px
    assert match(tracks, shifted, min_iou=0.3) == [(0, 0)]
    assert match(tracks, shifted, min_iou=0.3, max_centre_distance=0.3) == []


def test_a_far_away_box_of_the_same_category_is_not_matched() -> None:
    tracks = [track("a", "vehicle", (0, 0, 100, 100))]
    assert match(tracks, detections(("car", "vehicle", (500, 500, 600, 600))), min_iou=0.3) == []


def test_no_match_across_categories_even_on_the_same_box() -> None:
    tracks = [track("a", "vehicle", (0, 0, 100, 100))]
    assert match(tracks, detections(("bicycle", "two_wheeler", (0, 0, 100, 100))), min_iou=0.3) == []
    both = detections(("bicycle", "two_wheeler", (0, 0, 100, 100)), ("car", "vehicle", (30, 0, 130, 100)))
    assert match(tracks, both, min_iou=0.3) == [(0, 1)]


def test_nothing_to_match_gives_no_pairs() -> None:
    assert match([], detections(("car", "vehicle", (0, 0, 1, 1))), min_iou=0.3) == []
    assert match([track("a", "vehicle", (0, 0, 1, 1))], Detections.empty(), min_iou=0.3) == []


def test_track_survives_a_json_round_trip() -> None:
    original = Track(
        uid="t1",
        category="vehicle",
        class_name="car",
        box=[1.5, 2.0, 30.0, 40.25],
        confidence=0.75,
        first_seen=T0,
        last_seen=T0 + timedelta(minutes=5),
        misses=2,
        zone_since={"lane": T0 + timedelta(seconds=30)},
        zone_first_frame={"lane": "f1"},
        open_hazards=["cam:lane:t1"],
    )
    data = json.loads(json.dumps(original.to_json()))  # plain JSON, as stored in camera_state
    assert data["first_seen"] == T0.isoformat() and data["zone_since"] == {"lane": "2026-05-01T08:00:30+00:00"}
    restored = Track.from_json(data)
    assert restored == original
    assert restored.last_seen.tzinfo is not None
