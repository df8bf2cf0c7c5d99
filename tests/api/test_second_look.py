"""The second look: the object's region again through the same model before a camera hazard opens; a weak
confirmation keeps the hazard "suspected" (awaiting review, not delivered)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import numpy as np
from sqlalchemy import select

from service.store import models as m
from service.vision.second_look import SecondLook, confirmation, crop_box, second_look
from tests.api.conftest import Harness
from tests.api.support import T0
from tests.support import detections, png_bytes

SIZE = (640, 480)
CAR = ("car", "vehicle", (200, 300, 320, 400))  # ground point (260, 400): in lanting-gate's fire lane


def test_the_crop_holds_the_object_with_context_inside_the_frame() -> None:
    assert crop_box((20, 30, 40, 45), 64, 48) == (0, 0, 64, 48)  # small: at least 96 px around, clipped
    x1, y1, x2, y2 = crop_box((400, 300, 600, 500), 1920, 1080)
    assert (x1, y1, x2, y2) == (280, 180, 720, 620)  # 60 % of the box's size beyond each side


def test_confirmation_is_the_best_overlapping_detection_of_the_same_category() -> None:
    found = detections(
        ("car", "vehicle", (10, 10, 50, 40)),  # the car, in crop coordinates
        ("motorcycle", "two_wheeler", (10, 10, 50, 40)),  # same place, another category: ignored
        ("car", "vehicle", (200, 200, 260, 240)),  # another car elsewhere in the crop: ignored
    )
    found.confidence = np.array([0.8, 0.95, 0.99], dtype=np.float32)
    assert confirmation(found, (100, 100), (110, 110, 150, 140), "vehicle") == np.float32(0.8)
    assert confirmation(found, (0, 0), (110, 110, 150, 140), "vehicle") == 0.0  # nothing overlaps there
    assert confirmation(detections(), (0, 0), (1, 1, 2, 2), "vehicle") == 0.0


def test_objects_no_class_explains_and_a_busy_model_get_no_second_look() -> None:
    image = np.zeros((48, 64, 3), np.uint8)
    never: Callable = lambda crop: (_ for _ in ()).throw(AssertionError("looked"))  # noqa: E731
    assert second_look(image, (1, 1, 9, 9), "clutter", "unknown_object", never) == SecondLook(None)
    busy = second_look(image, (1, 1, 9, 9), "vehicle", "car", lambda crop: None)
    assert busy.score is None and not busy.holds(0.9)


def open_hazard(h: Harness, found_in_crop=None) -> int:
    """Three 640x480 frames over the fire lane's dwell; `found_in_crop`: what the model sees in the opening
    frame's crop (nothing when None)."""
    for n, seconds in enumerate((0, 150, 300)):
        body, image = png_bytes(10 + n, SIZE)
        h.detector.register(image, detections(CAR))
        if n == 2 and found_in_crop is not None:
            x1, y1, x2, y2 = crop_box(CAR[2], *SIZE)
            h.detector.register(np.ascontiguousarray(image[y1:y2, x1:x2]), found_in_crop)
        response = h.client.post(
            "/api/v1/cameras/lanting-gate/frames",
            content=body,
            headers=h.headers("gateway") | {"Content-Type": "image/png"},
            params={"captured_at": (T0 + timedelta(seconds=seconds)).isoformat()},
        )
        assert response.status_code == 201, response.text
    opened = response.json()["hazards"]
    assert [x["change"] for x in opened] == ["opened"], opened
    return opened[0]["hazard_id"]


def history(h: Harness, hazard_id: int) -> list[m.HazardHistory]:
    with h.client.app.state.runtime.db.session() as session:
        query = select(m.HazardHistory).where(m.HazardHistory.hazard_id == hazard_id).order_by(m.HazardHistory.id)
        return list(session.scalars(query))


def test_an_unconfirmed_hazard_waits_as_suspected_and_is_not_announced(make_harness) -> None:
    h = make_harness(second_look_min=0.5)
    hazard_id = open_hazard(h)  # the crop is an image the scripted model knows nothing in: confirmation 0
    detail = h.client.get(f"/api/v1/hazards/{hazard_id}", headers=h.headers("admin")).json()
    assert detail["status"] == "pending_review"
    rows = history(h, hazard_id)
    assert [r.action for r in rows] == ["suspected"] and rows[0].params["second_look"] == 0.0
    police = h.client.post(f"/api/v1/hazards/{hazard_id}/accept", json={}, headers=h.headers("police"))
    assert police.status_code == 200 and police.json()["status"] == "open"  # a person decided: now it alerts
    assert [r.action for r in history(h, hazard_id)] == ["suspected", "opened"]


def test_a_confirmed_hazard_opens_with_its_score(make_harness) -> None:
    h = make_harness(second_look_min=0.5)
    found = detections(("car", "vehicle", (72, 60, 192, 160)))  # the car in the crop's coordinates (128, 240)
    found.confidence = np.array([0.83], dtype=np.float32)
    hazard_id = open_hazard(h, found)
    rows = history(h, hazard_id)
    assert [r.action for r in rows] == ["opened"] and rows[0].params["second_look"] == 0.83
    metrics = h.client.get("/metrics", headers=h.headers("admin")).text
    assert 'clearway_second_looks_total{outcome="confirmed"} 1.0' in metrics


def test_without_a_minimum_there_is_no_second_look(make_harness) -> None:
    h = make_harness()
    open_hazard(h)
    assert h.detector.calls == 3  # one inference per frame, none more
