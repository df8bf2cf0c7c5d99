"""Static-object detection on scripted sequences built from real photos (datasets/static_sequences.py).

Events as in bench/eval_static.py: a region that persists over 3 consecutive samples, matched to the
ground-truth object with IoU >= 0.3. Sequences and a fresh detector's outputs are built once per module.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

import cv2
import numpy as np
import pytest

from bench.eval_static import CaseResult, evaluate, events
from datasets.static_sequences import SCRIPTS, ZONE, Case, build
from service.scene.detector import StaticObjectDetector, StaticSettings
from service.scene.measures import zones_window
from service.vision.geometry import iou_matrix
from service.vision.types import Detections, Frame

case = cache(build)  # module-wide: each sequence is rendered once
POSITIVE = [s.name for s in SCRIPTS if s.objects]
QUIET = [s.name for s in SCRIPTS if not s.objects]
# A harsh day/night switch: a non-monotonic grey mapping changes every texture's look (the scripted IR is mild).
HARSH_IR = (128 + 110 * np.sin(np.linspace(0, 3 * np.pi, 256))).astype(np.uint8)


@cache
def outputs(name: str) -> list[Detections]:
    """A fresh detector's output for every frame of a case."""
    detector = StaticObjectDetector([ZONE])
    return [detector.update(frame) for frame in case(name).frames]


def run(name: str, settings: StaticSettings | None = None) -> CaseResult:
    return evaluate(case(name), lambda: StaticObjectDetector([ZONE], settings=settings))


def feed(detector: StaticObjectDetector, sequence: Case, frames: range) -> list[Detections]:
    return [detector.update(sequence.frames[i]) for i in frames]


@pytest.mark.parametrize("name", POSITIVE)
def test_left_objects_are_found_and_stay_reported(name: str) -> None:
    result = run(name)
    assert result.recall == 1.0 and result.false_alarms == 0 and result.duplicates == 0
    assert result.covered == result.to_cover, "reported in every sample after the event while it stays"
    assert max(result.latency) <= 3, "event within 3 samples of arrival (k=3: reported from the next sample on)"


@pytest.mark.parametrize("name", POSITIVE)
def test_left_object_is_reported_on_its_true_box_from_the_next_sample(name: str) -> None:
    sequence, out = case(name), outputs(name)
    arrival: dict[str, int] = {}
    for t, present in enumerate(sequence.truth):
        for obj, box in present.items():
            arrival.setdefault(obj, t)
            if t == arrival[obj]:
                continue  # the sample it arrives in: not static yet
            assert len(out[t]), f"{obj} not reported at sample {t}"
            iou = iou_matrix(np.array([box]), out[t].xyxy)[0]
            region = out[t].xyxy[int(np.argmax(iou))]
            # Measured 0.58-0.77: the region also holds the object's contact shadow (below the truth box).
            assert iou.max() >= 0.5, f"{obj} at sample {t}: IoU {iou.max():.2f}"
            cx, cy = (region[0] + region[2]) / 2, (region[1] + region[3]) / 2
            assert box[0] <= cx <= box[2] and box[1] <= cy <= box[3], "region centred on the object"


@pytest.mark.parametrize(
    "name", ["quiet_lighting_ramp", "quiet_exposure_jumps", "quiet_night_ir", "quiet_rain", "quiet_passers_by"]
)
def test_lighting_ir_rain_and_passers_by_give_no_region_at_all(name: str) -> None:
    assert [len(o) for o in outputs(name)] == [0] * len(case(name).frames)


@pytest.mark.parametrize("name", QUIET)
def test_nothing_happens_means_no_alarm(name: str) -> None:
    # quiet_ghost, quiet_shadows and quiet_everything show a region in 1-2 isolated samples (a ghost before it is
    # re-learned, a shadow edge, the IR switch); none persists over the 3 samples an event needs.
    result = run(name)
    assert result.false_alarms == 0 and result.true_events == 0


def test_rows_are_static_clutter_in_frame_pixels() -> None:
    sequence = case("boxes_day")
    detector = StaticObjectDetector([ZONE])
    out = feed(detector, sequence, range(12))[-1]
    assert len(out) == 1
    assert list(out.origin) == ["static"] and list(out.category) == ["clutter"]
    assert list(out.class_name) == ["unknown_object"] and 0 < out.confidence[0] <= 1
    truth = np.array(list(sequence.truth[11].values()))
    assert iou_matrix(out.xyxy, truth)[0, 0] >= 0.5
    frame = Frame("cam", datetime(2025, 1, 1, tzinfo=UTC), sequence.frames[12])
    assert len(detector.update(frame)) == 1, "accepts a Frame as well as an array"


def test_taken_away_leaves_no_alarm() -> None:
    sequence, out = case("boxes_removed"), outputs("boxes_removed")  # boxes present in samples 4..14
    assert all(len(o) == 1 for o in out[5:15])
    assert not sequence.truth[15]
    assert all(len(o) == 0 for o in out[15:]), "the lane is reported clear from the first sample after removal"


@pytest.mark.parametrize("zone", [ZONE, None], ids=["zone", "all-zones"])
def test_relearning_a_confirmed_clear_zone_accepts_what_is_there(zone) -> None:
    sequence = case("boxes_day")
    detector = StaticObjectDetector([ZONE])
    assert len(feed(detector, sequence, range(12))[-1]) == 1
    detector.relearn(zone)  # an operator confirmed the zone clear (here: the boxes are accepted as scenery)
    assert not detector.counter.any() and not detector.foreground.any()
    assert all(len(o) == 0 for o in feed(detector, sequence, range(12, 24)))


def test_manual_clear_reference() -> None:
    sequence = case("boxes_day")  # boxes from sample 6; odd samples have nobody passing
    detector = StaticObjectDetector([ZONE])
    detector.set_reference(sequence.frames[1])  # "this is the clear reference", taken before the boxes came
    assert not detector.bootstrap and detector.reference is not None
    assert len(feed(detector, sequence, range(2, 12))[-1]) == 1

    detector.set_reference(sequence.frames[13])  # the boxes are now declared part of the clear scene
    assert all(len(o) == 0 for o in feed(detector, sequence, range(14, 24)))


def test_adopt_last_sample_as_the_clear_reference() -> None:
    sequence = case("boxes_day")  # boxes from sample 6; even samples have people passing
    detector = StaticObjectDetector([ZONE])
    assert detector.adopt_last_as_reference() is False, "nothing seen yet"
    assert detector.reference is None

    assert len(feed(detector, sequence, range(14))[-1]) == 1  # sample 13 shows the boxes, nobody passing
    assert detector.adopt_last_as_reference() is True
    assert not detector.counter.any() and not detector.carried.any()
    assert not detector.foreground.any() and not detector.disturbed.any()
    assert np.array_equal(detector.reference, detector.look)
    assert all(len(o) == 0 for o in feed(detector, sequence, range(14, 24))), "the boxes are scenery now"

    # During start-up it ends the learning at once: sample 1 (empty lane) is the reference, the boxes are found.
    detector = StaticObjectDetector([ZONE])
    feed(detector, sequence, range(2))
    assert detector.bootstrap
    assert detector.adopt_last_as_reference() is True
    assert not detector.bootstrap
    out = feed(detector, sequence, range(2, 12))
    assert all(len(o) == 0 for o in out[:4]), "nothing reported before the boxes arrive (sample 6)"
    assert len(out[-1]) == 1


def test_passer_by_in_the_adopted_sample_is_not_an_alarm() -> None:
    # Sample 12 holds the boxes and a passer-by: the passer-by's spot looks different from the next sample on.
    # The ghost test finds that look in the history (before the reference was declared) and re-learns it.
    sequence = case("boxes_day")
    detector = StaticObjectDetector([ZONE])
    feed(detector, sequence, range(13))
    assert detector.adopt_last_as_reference() is True
    out = feed(detector, sequence, range(13, 24))
    result = events([o.xyxy.astype(np.float64) for o in out], sequence.truth[13:24])
    assert result[2] == 0, "no region persists over 3 samples"
    assert detector.ghosts >= 1


@pytest.mark.parametrize("cut", [3, 10], ids=["during-start-up", "running"])
def test_state_survives_a_restart_exactly(cut: int) -> None:
    sequence = case("boxes_day")
    first = StaticObjectDetector([ZONE])
    feed(first, sequence, range(cut))
    data = first.to_bytes()
    second = StaticObjectDetector([ZONE])
    second.load_bytes(data)
    rest = range(cut, len(sequence.frames))
    after_first, after_second = feed(first, sequence, rest), feed(second, sequence, rest)
    assert sum(len(o) for o in after_first) >= 10, "the boxes are reported after the restart"
    for a, b in zip(after_first, after_second, strict=True):
        assert np.array_equal(a.xyxy, b.xyxy) and list(a.confidence) == list(b.confidence)
    assert np.array_equal(first.reference, second.reference)

    other = StaticObjectDetector([ZONE], settings=StaticSettings(work_width=200))
    other.load_state_dict(first.state_dict())
    assert other.reference is None, "a state saved at another work size is ignored"
    empty = StaticObjectDetector([ZONE])
    empty.load_bytes(StaticObjectDetector([ZONE]).to_bytes())
    assert empty.reference is None


def test_the_model_works_on_the_zones_neighbourhood_and_keeps_a_whole_picture_state() -> None:
    """Only the zones' box (widened) is worked on; a state saved over the whole picture (before the window, or
    a camera without zones) loads into the window with nothing to relearn, and finds the boxes the same."""
    sequence = case("boxes_day")
    whole = StaticObjectDetector([[(0, 0), (1, 0), (1, 1), (0, 1)]])
    feed(whole, sequence, range(8))
    width, height = whole.window[2:]
    x0, y0, x1, y1 = zones_window([ZONE], (width, height), StaticSettings().window_margin)
    assert (x1 - x0) * (y1 - y0) < width * height
    detector = StaticObjectDetector([ZONE])
    detector.load_state_dict(whole.state_dict())
    assert detector.window == (x0, y0, x1, y1) and detector.unseen is None
    assert np.array_equal(detector.reference, whole.reference[y0:y1, x0:x1])
    after = feed(detector, sequence, range(8, len(sequence.frames)))
    assert sum(len(o) for o in after) >= 10, "the boxes are reported"


def test_global_scene_change_keeps_what_was_there() -> None:
    # A harsh day/night switch from frame 14 on: the model rebuilds its reference at once and carries the boxes
    # that were static at that moment.
    sequence = case("boxes_night")
    frames = [f if i < 14 else cv2.LUT(f, HARSH_IR) for i, f in enumerate(sequence.frames)]
    detector = StaticObjectDetector([ZONE])
    out = [detector.update(f) for f in frames]
    assert detector.rebases == 1
    truth = np.array(list(sequence.truth[-1].values()))
    assert all(len(o) == 1 and iou_matrix(o.xyxy, truth).max() >= 0.3 for o in out[10:])


@pytest.mark.parametrize("name", ["quiet_passers_by", "quiet_rain"])
@pytest.mark.parametrize("switch", [11, 12, 13, 15])
def test_harsh_global_switch_with_nothing_there_reports_nothing(name: str, switch: int) -> None:
    # Passers-by or rain streaks in the switch frame must not stay in the new reference: it is agreed on over
    # the next samples, as at start-up.
    sequence = case(name)
    frames = [f if i < switch else cv2.LUT(f, HARSH_IR) for i, f in enumerate(sequence.frames)]
    detector = StaticObjectDetector([ZONE])
    out = [detector.update(f) for f in frames]
    assert detector.rebases == 1 and not detector.carried.any()
    assert all(len(o) == 0 for o in out)


def test_carried_object_taken_away_after_a_global_change_is_learned_as_empty() -> None:
    sequence = case("boxes_removed")  # boxes from frame 4 to 14
    frames = [f if i < 10 else cv2.LUT(f, HARSH_IR) for i, f in enumerate(sequence.frames)]
    detector = StaticObjectDetector([ZONE])
    out = [detector.update(f) for f in frames]
    assert detector.rebases == 1 and all(len(o) == 1 for o in out[10:15])
    assert all(len(o) == 0 for o in out[17:]) and not detector.carried.any()


def test_frame_size_change_starts_over() -> None:
    detector = StaticObjectDetector([ZONE])
    sequence = case("boxes_day")
    feed(detector, sequence, range(8))
    bigger = np.ascontiguousarray(np.repeat(np.repeat(sequence.frames[8], 2, axis=0), 2, axis=1))
    assert len(detector.update(bigger)) == 0
    assert detector.bootstrap, "learning the new picture"
