"""Camera-sized frames: a 4K JPEG is decoded small for the model, yet its hazard keeps the original bytes as
evidence, its boxes are in the picture's own pixels, and its evidence picture is drawn from every pixel."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import cv2
import numpy as np

from service.vision.decoding import decode
from tests.api.conftest import Harness
from tests.api.support import T0
from tests.support import detections

W, H = 3840, 2160
CAR_SMALL = ("car", "vehicle", (160, 160, 240, 230))  # in the 480x270 picture the model sees: the fire lane


def frame_4k(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    image = np.full((H, W, 3), 120, np.uint8)
    image[: H // 2] = (200, 170, 140)
    image += rng.integers(0, 6, image.shape, dtype=np.uint8)
    cv2.rectangle(image, (1280, 1280), (1920, 1840), (40, 40, 190), -1)  # the car, in the picture's pixels
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes()


def test_a_4k_upload_keeps_its_original_bytes_as_evidence(harness: Harness) -> None:
    h = harness
    settings = h.client.app.state.runtime.settings
    bodies = [frame_4k(seed) for seed in range(3)]
    for n, body in enumerate(bodies):
        seen = decode(body, settings.max_pixels, settings.decode_fit)
        assert seen.image.shape == (270, 480, 3) and seen.size == (W, H)  # what the model is given
        h.detector.register(seen.image, detections(CAR_SMALL))
        response = h.client.post(
            "/api/v1/cameras/lanting-gate/frames",
            content=body,
            headers=h.headers("gateway") | {"Content-Type": "image/jpeg"},
            params={"captured_at": (T0 + timedelta(seconds=150 * n)).isoformat()},
        )
        assert response.status_code == 201, response.text
        answer = response.json()
        assert answer["detections"][0]["box"] == [1280.0, 1280.0, 1920.0, 1840.0]  # x8: the picture's pixels
        assert answer["detections"][0]["zones"] == ["fire-lane-north"]
    assert [c["change"] for c in answer["hazards"]] == ["opened"]
    assert answer["timings_ms"]["full_decode"] > 0  # the evidence needed every pixel: decoded once, in full
    detail = h.client.get(f"/api/v1/hazards/{answer['hazards'][0]['hazard_id']}", headers=h.headers("admin")).json()
    assert detail["box"] == [1280.0, 1280.0, 1920.0, 1840.0]
    evidence = {e["kind"]: e for e in detail["evidence"]}
    original = h.client.get(evidence["original"]["url"], headers=h.headers("admin")).content
    assert original == bodies[2]  # byte for byte what the camera sent
    assert evidence["original"]["sha256"] == hashlib.sha256(bodies[2]).hexdigest()
    annotated = h.client.get(evidence["annotated"]["url"], headers=h.headers("admin")).content
    drawn = cv2.imdecode(np.frombuffer(annotated, np.uint8), cv2.IMREAD_COLOR)
    assert drawn.shape[1] == W and drawn.shape[0] > H  # the whole picture, with its caption band below
    assert detail["first_seen_at"].startswith("2026-05-01T08:00")


def test_reduced_decode_can_be_turned_off(make_harness) -> None:
    h = make_harness(reduced_decode=False, max_upload_bytes=8 * 1024 * 1024)
    assert h.client.app.state.runtime.settings.decode_fit is None
    body = frame_4k(9)
    full = decode(body, 40_000_000)
    h.detector.register(full.image, detections(("car", "vehicle", (1280, 1280, 1920, 1840))))
    response = h.client.post(
        "/api/v1/cameras/lanting-gate/frames",
        content=body,
        headers=h.headers("gateway") | {"Content-Type": "image/jpeg"},
        params={"captured_at": T0.isoformat()},
    )
    assert response.status_code == 201 and response.json()["detections"][0]["box"] == [1280.0, 1280.0, 1920.0, 1840.0]
