"""Pushing frames: authentication, every kind of bad input, and the happy path (scripted detector)."""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor

from PIL import Image

from tests.api.conftest import Harness
from tests.api.support import documented
from tests.support import detections, png_bytes

URL = "/api/v1/cameras/lanting-gate/frames"


def rejected(h: Harness, reason: str) -> float:
    text = h.client.get("/metrics", headers=h.headers("admin")).text
    line = next(
        (
            ln
            for ln in text.splitlines()
            if f'reason="{reason}"' in ln and ln.startswith("clearway_frames_rejected_total")
        ),
        None,
    )
    return float(line.rsplit(" ", 1)[1]) if line else 0.0


def post(h: Harness, body: bytes, who: str = "gateway", content_type: str = "image/png", url: str = URL, **params):
    headers = h.headers(who) | {"Content-Type": content_type}
    return h.client.post(url, content=body, headers=headers, params=params)


def test_health_needs_no_key_but_everything_else_does(harness: Harness) -> None:
    assert harness.client.get("/healthz").json() == {"status": "ok"}
    ready = harness.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "model": "ok"}
    body, _ = png_bytes(1)
    for path in (URL, "/api/v1/hazards", "/metrics", "/api/v1/cameras"):
        method = harness.client.post if path == URL else harness.client.get
        response = method(path, content=body) if path == URL else method(path)
        assert response.status_code == 401, path
    bad = harness.client.get("/api/v1/hazards", headers={"Authorization": "Bearer cw_nope_nope"})
    assert bad.status_code == 401 and bad.json()["detail"]["reason"] == "invalid_key"


def test_gateway_pushes_raw_png_and_gets_detections(harness: Harness) -> None:
    body, image = png_bytes(2)
    harness.detector.register(image, detections(("car", "vehicle", (20, 30, 40, 45))))
    response = post(harness, body, captured_at="2026-05-01T08:00:00+08:00")
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["captured_at"] == "2026-05-01T00:00:00+00:00"
    assert data["detections"][0]["category"] == "vehicle"
    assert data["detections"][0]["zones"] == ["fire-lane-north"]
    assert data["hazards"] == [] and not data["duplicate"]
    documented(data)


def test_multipart_upload_with_captured_at_field(harness: Harness) -> None:
    body, _ = png_bytes(3)
    response = harness.client.post(
        URL,
        headers=harness.headers("gateway"),
        files={"image": ("f.png", body, "image/png")},
        data={"captured_at": "1777600000"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["captured_at"].startswith("2026-05-01")


def test_same_image_twice_is_recognised_as_duplicate(harness: Harness) -> None:
    body, _ = png_bytes(4)
    first = post(harness, body).json()
    second = post(harness, body).json()
    assert second["duplicate"] and second["frame_id"] == first["frame_id"]
    assert harness.detector.calls == 1


def test_bad_inputs_get_clear_4xx_and_are_counted(harness: Harness) -> None:
    body, _ = png_bytes(5)
    big = io.BytesIO()
    Image.new("RGB", (9000, 9000)).save(big, format="PNG")  # 81 MP, a few KB compressed
    jpeg = io.BytesIO()
    Image.effect_noise((200, 200), 60).convert("RGB").save(jpeg, format="JPEG")
    gif = io.BytesIO()
    Image.new("RGB", (32, 32)).save(gif, format="GIF")
    cases = [
        (post(harness, b""), 422, "empty"),
        (post(harness, b"hello, not an image"), 422, "not_an_image"),
        (post(harness, jpeg.getvalue()[: len(jpeg.getvalue()) // 2], content_type="image/jpeg"), 422, "truncated"),
        (post(harness, gif.getvalue(), content_type="application/octet-stream"), 422, "unsupported_format"),
        (post(harness, body, content_type="text/plain"), 415, "unsupported_media_type"),
        (post(harness, b"x" * (1024 * 1024 + 1)), 413, "too_large"),
        (post(harness, big.getvalue()), 413, "too_many_pixels"),
        (post(harness, body, url="/api/v1/cameras/nowhere/frames"), 404, "unknown_camera"),
        (post(harness, body, captured_at="2099-01-01T00:00:00Z"), 422, "future_captured_at"),
        (post(harness, body, captured_at="2026-05-01T08:00:00"), 422, "bad_captured_at"),
        (post(harness, body, captured_at="yesterday"), 422, "bad_captured_at"),
        (post(harness, body, url="/api/v1/cameras/huayuan-lane/frames"), 403, "camera_not_allowed"),
    ]
    for response, code, reason in cases:
        assert response.status_code == code, (reason, response.text)
        assert response.json()["detail"]["reason"] == reason
        assert response.json()["detail"]["message"]
        assert rejected(harness, reason) >= 1, reason
    assert post(harness, body, who="lanting").status_code == 403  # property keys cannot push


def test_full_queue_answers_429_with_retry_after(make_harness) -> None:
    h = make_harness(inference_queue=1)
    h.detector.gate = threading.Event()
    frames = [png_bytes(100 + i)[0] for i in range(6)]
    with ThreadPoolExecutor(6) as pool:
        futures = [pool.submit(post, h, f) for f in frames]
        import time

        deadline = time.monotonic() + 10
        while rejected(h, "queue_full") < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        h.detector.gate.set()
        codes = sorted(f.result().status_code for f in futures)
    assert 429 in codes and 201 in codes
    refused = next(f.result() for f in futures if f.result().status_code == 429)
    assert refused.headers["Retry-After"] == "2" and refused.json()["detail"]["reason"] == "queue_full"


def test_batched_inference_settings_reach_the_pool_and_each_camera_gets_its_own_answer(make_harness) -> None:
    h = make_harness(inference_batch=4, inference_batch_wait_ms=20, inference_workers=1)
    pool = h.client.app.state.runtime.pool
    assert (pool.batch, pool.batch_wait_s) == (4, 0.02)
    pushes = []
    for seed, camera in ((11, "lanting-gate"), (12, "lanting-b3-stair")):
        body, image = png_bytes(seed)
        h.detector.register(image, detections(("car", "vehicle", (seed, 30, seed + 20, 45))))
        pushes.append((body, f"/api/v1/cameras/{camera}/frames"))
    with ThreadPoolExecutor(2) as executor:  # both wait for the model together: one call may take both
        answers = list(executor.map(lambda p: post(h, p[0], url=p[1]), pushes))
    assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
    assert [a.json()["detections"][0]["box"][0] for a in answers] == [11, 12]
