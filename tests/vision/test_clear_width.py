"""Clear width on scenes with known geometry: a 6 m x 30 m fire lane seen by a pinhole camera, with boxes
(cuboids, projected and boxed as a detector would) standing at known ground positions."""

from __future__ import annotations

import numpy as np
import pytest

from service.config.calibration import GroundCalibration
from service.vision.clear_width import box_footprint, draw_clear_width, narrowest_clear_width, severity_for
from tests.vision.camera_model import PinholeCamera

LANE = np.array([(0.0, 0.0), (6.0, 0.0), (6.0, 30.0), (0.0, 30.0)])
MARKS = [(0.0, 0.0), (6.0, 0.0), (6.0, 30.0), (0.0, 30.0), (3.0, 15.0)]


def scene(camera: PinholeCamera) -> tuple[GroundCalibration, np.ndarray]:
    cal = GroundCalibration(
        image_points=[tuple(p) for p in camera.project_normalised(np.array(MARKS))], ground_points=MARKS
    )
    return cal, camera.project_pixels(LANE)


STRAIGHT = PinholeCamera()
YAWED = PinholeCamera(position=(-2.0, -10.0, 7.0), yaw_deg=12.0)


@pytest.mark.parametrize("camera", [STRAIGHT, YAWED], ids=["straight", "yawed"])
def test_empty_lane_is_its_own_width(camera: PinholeCamera) -> None:
    cal, lane = scene(camera)
    result = narrowest_clear_width(lane, [], cal, camera.size)
    assert result is not None
    assert result.width_m == pytest.approx(6.0, abs=0.05)
    assert result.lane_width_m == pytest.approx(6.0, abs=0.05)
    assert severity_for(result.width_m) == "minor"


@pytest.mark.parametrize("camera", [STRAIGHT, YAWED], ids=["straight", "yawed"])
def test_one_pile_leaves_three_and_a_half_metres(camera: PinholeCamera) -> None:
    cal, lane = scene(camera)
    boxes = [camera.box_of(0.0, 2.5, 10.0, 11.0, height=1.2)]
    result = narrowest_clear_width(lane, boxes, cal, camera.size)
    assert result.width_m == pytest.approx(3.5, abs=0.1)
    assert severity_for(result.width_m, 4.0) == "major"
    (ax, ay), (bx, by) = result.section_ground
    assert min(ax, bx) == pytest.approx(2.5, abs=0.1) and max(ax, bx) == pytest.approx(6.0, abs=0.05)
    assert 9.9 <= ay <= 11.1 and 9.9 <= by <= 11.1
    # the section drawn on the image lies on the image of that ground segment
    assert np.allclose(result.section_img, cal.to_image(np.array(result.section_ground), camera.size), atol=0.5)


def test_footprint_depth_decides_whether_two_piles_overlap() -> None:
    cal, lane = scene(STRAIGHT)
    boxes = [STRAIGHT.box_of(0.0, 1.5, 10.0, 11.0, 1.0), STRAIGHT.box_of(4.5, 6.0, 12.0, 13.0, 1.0)]
    shallow = narrowest_clear_width(lane, boxes, cal, STRAIGHT.size, footprint_depth_m=1.0)
    assert shallow.width_m == pytest.approx(4.5, abs=0.1)
    assert severity_for(shallow.width_m, 4.0) == "minor"
    deep = narrowest_clear_width(lane, boxes, cal, STRAIGHT.size, footprint_depth_m=3.0)
    assert deep.width_m == pytest.approx(3.0, abs=0.1)
    assert severity_for(deep.width_m, 4.0) == "major"
    per_box = narrowest_clear_width(lane, boxes, cal, STRAIGHT.size, footprint_depth_m=[3.0, 1.0])
    assert per_box.width_m == pytest.approx(3.0, abs=0.1)


def test_oblique_view_errs_on_the_safe_side() -> None:
    # Seen 12 degrees aside, a box's bottom edge spans more ground than the object's front edge: the clear width
    # comes out smaller than the truth (more "major"), never larger. Measured: 4.24 for 4.5, 2.46 for 3.0.
    cal, lane = scene(YAWED)
    boxes = [YAWED.box_of(0.0, 1.5, 10.0, 11.0, 1.0), YAWED.box_of(4.5, 6.0, 12.0, 13.0, 1.0)]
    for depth, truth in ((1.0, 4.5), (3.0, 3.0)):
        width = narrowest_clear_width(lane, boxes, cal, YAWED.size, footprint_depth_m=depth).width_m
        assert truth - 0.6 <= width <= truth + 0.02


def test_blocked_lane_and_objects_outside_it() -> None:
    cal, lane = scene(STRAIGHT)
    across = [STRAIGHT.box_of(-1.0, 7.0, 20.0, 21.0, 1.5)]
    assert narrowest_clear_width(lane, across, cal, STRAIGHT.size).width_m == pytest.approx(0.0, abs=1e-6)
    outside = [STRAIGHT.box_of(7.0, 9.0, 10.0, 11.0, 1.5)]
    assert narrowest_clear_width(lane, outside, cal, STRAIGHT.size).width_m == pytest.approx(6.0, abs=0.05)


def test_footprint_is_the_front_edge_extruded_away_from_the_camera() -> None:
    cal, _ = scene(STRAIGHT)
    footprint = box_footprint(STRAIGHT.box_of(1.0, 3.0, 8.0, 9.0, 1.0), cal, STRAIGHT.size, depth_m=1.0)
    xs, ys = np.asarray(footprint.exterior.coords).T
    assert xs.min() == pytest.approx(1.0, abs=0.1) and xs.max() == pytest.approx(3.0, abs=0.1)
    assert ys.min() == pytest.approx(8.0, abs=0.05) and ys.max() == pytest.approx(9.0, abs=0.05)


def test_severity_rule() -> None:
    assert severity_for(3.99) == "major"
    assert severity_for(4.0) == "minor"
    assert severity_for(None) == "minor"
    assert severity_for(4.5, minimum_m=5.0) == "major"


def test_overlay_draws_the_section_and_the_number() -> None:
    cal, lane = scene(STRAIGHT)
    result = narrowest_clear_width(lane, [STRAIGHT.box_of(0.0, 2.5, 10.0, 11.0, 1.2)], cal, STRAIGHT.size)
    image = np.zeros((STRAIGHT.size[1], STRAIGHT.size[0], 3), np.uint8)
    out = draw_clear_width(image, result, minimum_m=4.0)
    assert out is image
    (ax, ay), (bx, by) = result.section_img
    for f in np.linspace(0.05, 0.95, 10):  # every point along the narrowest section is drawn
        x, y = round(ax + f * (bx - ax)), round(ay + f * (by - ay))
        assert out[y, x].any(), f"section line drawn at {f:.2f} of its length"
    far = out[: round(min(ay, by)) - 60]  # nothing drawn far above the section and its label (the far lane)
    assert not far.any()
    red = (out[..., 2] > 200) & (out[..., 1] < 60)
    assert red.sum() > 500, "below the minimum: drawn in red with its label"
    assert draw_clear_width(np.zeros_like(image), result, minimum_m=3.0)[..., 1].max() > 150, "green when enough"
