"""Ground calibration: a homography that maps the image onto the ground in metres, validated on load."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml
from pydantic import ValidationError

from service.config.calibration import GroundCalibration
from service.config.settings import DEMO_SITE
from service.config.site import SiteConfigError, parse_site
from tests.vision.camera_model import PinholeCamera

CAMERA = PinholeCamera()
GROUND = [(0.0, 0.0), (6.0, 0.0), (6.0, 30.0), (0.0, 30.0), (3.0, 12.0), (1.0, 20.0)]


def image_points(ground: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [tuple(p) for p in CAMERA.project_normalised(np.array(ground))]


def test_four_points_fit_exactly_and_map_both_ways() -> None:
    cal = GroundCalibration(image_points=image_points(GROUND[:4]), ground_points=GROUND[:4])
    assert cal.exact_fit and cal.reprojection_error_m < 1e-6
    assert "exact fit" in cal.report()
    # A point that was not used for the fit lands where the camera model puts it.
    pixel = CAMERA.project_pixels(np.array([[2.0, 15.0]]))
    assert np.allclose(cal.to_ground(pixel, CAMERA.size), [[2.0, 15.0]], atol=1e-3)
    assert np.allclose(cal.to_image(np.array([[2.0, 15.0]]), CAMERA.size), pixel, atol=1e-2)


def test_reprojection_error_is_computed_and_reported() -> None:
    noise = np.random.default_rng(3).normal(0, 0.05, (len(GROUND), 2))
    measured = [(x + dx, y + dy) for (x, y), (dx, dy) in zip(GROUND, noise, strict=True)]
    cal = GroundCalibration(image_points=image_points(GROUND), ground_points=measured)
    assert 0.01 < cal.reprojection_error_m < 0.15
    assert len(cal.reprojection_errors_m) == 6
    assert "reprojection error rms" in cal.report()


def test_too_large_error_is_rejected_naming_the_point() -> None:
    wrong = list(GROUND)
    wrong[4] = (5.0, 12.0)  # measured two metres off
    with pytest.raises(ValidationError, match=r"reprojection error .* at point \d exceeds max_error_m"):
        GroundCalibration(image_points=image_points(GROUND), ground_points=wrong)
    GroundCalibration(image_points=image_points(GROUND), ground_points=wrong, max_error_m=3.0)


@pytest.mark.parametrize(
    ("image", "ground", "message"),
    [
        ([(0.1, 0.9), (0.5, 0.9), (0.9, 0.9), (0.5, 0.4)], GROUND[:4], "image points .* on one line"),
        (None, [(0, 0), (2, 0), (4, 0), (6, 0.01)], "ground points .* on one line"),
        ([(0.1, 0.9), (0.1, 0.9), (0.9, 0.9), (0.5, 0.4)], GROUND[:4], "are the same point"),
        (None, [(0, 0), (0.01, 0), (6, 30), (0, 30)], "closer than 5 cm"),
        ([(0.1, 0.9), (0.9, 0.9), (0.5, 0.4)], GROUND[:3], "at least 4"),
        (None, GROUND[:5], "must pair up"),
        ([(10, 90), (90, 90), (70, 40), (30, 40)], GROUND[:4], "normalised to 0..1"),
    ],
)
def test_degenerate_calibrations_are_rejected(image, ground, message) -> None:
    image = image if image is not None else image_points(GROUND[:4])
    with pytest.raises(ValidationError, match=message):
        GroundCalibration(image_points=image, ground_points=ground)


def test_camera_in_site_file_takes_calibration_and_minimum_width() -> None:
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    data["cameras"][0]["calibration"] = {"image_points": image_points(GROUND[:4]), "ground_points": GROUND[:4]}
    data["cameras"][0]["min_clear_width_m"] = 3.5
    site = parse_site(data)
    camera = site.cameras[0]
    assert camera.calibration is not None and camera.min_clear_width_m == 3.5
    assert site.cameras[1].calibration is None and site.cameras[1].min_clear_width_m == 4.0

    bad = copy.deepcopy(data)
    bad["cameras"][0]["calibration"]["ground_points"] = [[0, 0], [2, 0], [4, 0], [6, 0]]
    with pytest.raises(SiteConfigError, match=r"cameras\[0\]\.calibration.*on one line"):
        parse_site(bad)
