"""Fusion of static regions with detections: one row per object, persons never count, unknowns are clutter."""

from __future__ import annotations

import numpy as np

from service.scene.fusion import StaticFusion, explain, fuse
from service.vision.types import Detections


def model(*rows: tuple[list[float], str, str]) -> Detections:
    return Detections(
        xyxy=np.array([r[0] for r in rows]).reshape(-1, 4),
        confidence=[0.8] * len(rows),
        class_name=[r[1] for r in rows],
        category=[r[2] for r in rows],
    )


def static(*boxes: list[float]) -> Detections:
    n = len(boxes)
    return Detections(
        xyxy=np.array(boxes).reshape(-1, 4),
        confidence=[0.6] * n,
        class_name=["unknown_object"] * n,
        category=["clutter"] * n,
        origin=["static"] * n,
    )


MOTORCYCLE = ([100, 100, 200, 180], "motorcycle", "two_wheeler")
PERSON = ([400, 50, 460, 250], "person", "person")


def test_explained_region_is_the_detection_and_unknown_is_clutter() -> None:
    regions = static([105, 110, 195, 182], [600, 300, 700, 360])
    out = fuse(regions, model(MOTORCYCLE))
    assert len(out) == 2
    assert list(out.origin) == ["model", "static"]
    assert list(out.category) == ["two_wheeler", "clutter"]
    assert list(out.class_name) == ["motorcycle", "unknown_object"]
    assert np.allclose(out.xyxy[1], [600, 300, 700, 360])


def test_persons_never_count() -> None:
    regions = static([405, 150, 455, 250])  # someone standing still: the legs are a static region
    out = fuse(regions, model(PERSON))
    assert list(out.category) == ["person"] and list(out.origin) == ["model"]


def test_region_inside_a_car_is_the_car_but_a_bike_does_not_explain_a_big_pile() -> None:
    car = ([0, 0, 300, 200], "car", "vehicle")
    assert explain(static([20, 120, 80, 190]), model(car))[0] == 0
    bike = ([110, 110, 140, 150], "bicycle", "two_wheeler")
    assert explain(static([50, 50, 400, 300]), model(bike))[0] == -1


def test_empty_inputs() -> None:
    assert len(fuse(Detections.empty(), Detections.empty())) == 0
    assert list(fuse(static([1, 1, 50, 50]), Detections.empty()).category) == ["clutter"]
    assert list(fuse(Detections.empty(), model(MOTORCYCLE)).category) == ["two_wheeler"]


def test_memory_keeps_the_category_through_a_missed_detection() -> None:
    fusion = StaticFusion(memory_frames=3)
    region = static([105, 110, 195, 182])
    assert list(fusion(region, model(MOTORCYCLE)).origin) == ["model"]
    missed = fusion(region, Detections.empty())  # YOLO misses the parked motorcycle once
    assert list(missed.category) == ["two_wheeler"] and list(missed.class_name) == ["motorcycle"]
    assert list(missed.origin) == ["static"]
    for _ in range(3):
        fusion(static([600, 300, 700, 360]), Detections.empty())
    assert list(fusion(region, Detections.empty()).category) == ["clutter"], "memory expires"


def test_memory_of_a_person_is_short() -> None:
    fusion = StaticFusion(person_memory_frames=1)
    legs = static([405, 150, 455, 250])
    fusion(legs, model(PERSON))
    assert len(fusion(legs, Detections.empty())) == 0, "still the person standing there"
    fusion(Detections.empty(), Detections.empty())
    assert list(fusion(legs, Detections.empty()).category) == ["clutter"], "what is left there now is an object"


def test_static_fusion_without_memory_follows_the_rules() -> None:
    fusion = StaticFusion()
    out = fusion(static([105, 110, 195, 182], [600, 300, 700, 360], [405, 150, 455, 250]), model(MOTORCYCLE, PERSON))
    assert list(out.origin) == ["model", "model", "static"]
    assert list(out.category) == ["two_wheeler", "person", "clutter"]
    assert list(out.class_name) == ["motorcycle", "person", "unknown_object"]
    assert np.allclose(out.xyxy[2], [600, 300, 700, 360]), "the unexplained region keeps its own box"
