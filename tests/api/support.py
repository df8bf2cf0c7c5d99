"""Pushing frames through the API as a gateway, and a parked car that opens a hazard (demo site, 64x48 frames)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from service.api.routes.frames import FrameAnswer
from tests.api.conftest import Harness
from tests.support import detections, png_bytes

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
CAR = ("car", "vehicle", (20, 30, 40, 45))  # ground point (30, 45) of 64x48: in lanting-gate's fire lane


def push(h: Harness, seed: int, seconds: float, *objects, camera: str = "lanting-gate", client=None) -> dict:
    body, image = png_bytes(seed)
    h.detector.register(image, detections(*objects))
    response = (client or h.client).post(
        f"/api/v1/cameras/{camera}/frames",
        content=body,
        headers=h.headers("gateway") | {"Content-Type": "image/png"},
        params={"captured_at": (T0 + timedelta(seconds=seconds)).isoformat()},
    )
    assert response.status_code == 201, response.text
    return documented(response.json())


def documented(answer: dict) -> dict:
    """The frame answer, checked to be exactly what FrameAnswer documents (it is sent as built, not through it)."""
    assert FrameAnswer.model_validate(answer).model_dump(exclude_unset=True) == answer
    return answer


def open_hazard(h: Harness, seed: int = 1, start: float = 0.0, obj: tuple = CAR, camera: str = "lanting-gate") -> int:
    """Three frames over the fire lane's 300 s dwell: returns the new hazard's id."""
    push(h, seed, start, obj, camera=camera)
    push(h, seed + 1, start + 150, obj, camera=camera)
    opened = push(h, seed + 2, start + 300, obj, camera=camera)["hazards"]
    assert [x["change"] for x in opened] == ["opened"], opened
    return opened[0]["hazard_id"]
