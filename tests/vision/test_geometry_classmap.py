"""Zone geometry and the class map."""

from __future__ import annotations

import numpy as np
import pytest

from service.vision.classmap import DEFAULT_CLASSMAP, ClassMap, ClassMapError
from service.vision.geometry import ZoneShape, centre_distance_matrix, ground_point, iou_matrix

SQUARE = [(0.25, 0.25), (0.75, 0.25), (0.75, 0.75), (0.25, 0.75)]


def test_ground_point_is_bottom_centre() -> None:
    assert ground_point(np.array([10, 20, 30, 60])) == (20.0, 60.0)


def test_zone_contains_by_ground_point_or_overlap() -> None:
    zone = ZoneShape.build(SQUARE, 100, 100, min_overlap=0.5)
    assert zone.contains(np.array([40, 10, 60, 50]))  # ground point (50, 50) inside
    assert not zone.contains(np.array([40, 80, 60, 95]))  # wholly below
    assert zone.contains(np.array([30, 30, 70, 80]))  # ground point below, but 90% of the box inside
    assert not ZoneShape.build(SQUARE, 100, 100, min_overlap=0.95).contains(np.array([30, 30, 70, 80]))
    assert not zone.contains(np.array([10, 10, 10, 10]))  # degenerate box


def test_iou_and_centre_distance() -> None:
    a = np.array([[0, 0, 10, 10]], dtype=float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], dtype=float)
    assert np.allclose(iou_matrix(a, b), [[1.0, 50 / 150, 0.0]])
    assert np.isclose(centre_distance_matrix(a, b)[0, 1], 5 / np.hypot(10, 10))
    assert iou_matrix(a, np.zeros((0, 4))).shape == (1, 0)


def test_default_class_map_maps_coco_classes_and_thresholds() -> None:
    cmap = ClassMap.load(DEFAULT_CLASSMAP)
    assert cmap.category_of["bus"] == "vehicle" and cmap.category_of["motorcycle"] == "two_wheeler"
    assert cmap.category_of["suitcase"] == "clutter" and cmap.category_of["person"] == "person"
    found = cmap.apply(
        np.array([[0, 0, 1, 1]] * 4, dtype=float), np.array([0.9, 0.2, 0.9, 0.9]), ["bus", "car", "giraffe", "person"]
    )
    assert list(found.class_name) == ["bus", "person"]  # low-confidence car and unmapped giraffe dropped
    assert list(found.category) == ["vehicle", "person"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "needs a 'categories'"),
        ({"categories": {"boats": ["boat"]}}, "unknown category"),
        ({"categories": {"vehicle": ["car"], "clutter": ["car"]}}, "mapped twice"),
        ({"categories": {"vehicle": ["car"]}, "thresholds": {"vehicle": 2}}, "0..1"),
    ],
)
def test_bad_class_maps_are_refused(data: dict, message: str) -> None:
    with pytest.raises(ClassMapError, match=message):
        ClassMap.from_dict(data)
