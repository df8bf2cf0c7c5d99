"""A hazard's evidence picture: the caption's facts (number, compound, address, camera, site time), the real
photo drawn in zh and en (written to test-output/evidence/ to look at), and the pipeline drawing it once the
hazard has its number while the frame's own bytes stay untouched."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import ultralytics

from service.config.settings import DEMO_SITE
from service.config.site import load_site
from service.locale import translator
from service.vision.decoding import decode_image
from service.vision.drawing import ZONE
from service.vision.evidence import HazardFacts, caption_lines, hazard_pictures
from tests.api.conftest import Harness, harness, make_harness  # noqa: F401  (the API harness fixtures)
from tests.support import detections, png_bytes

SITE = load_site(DEMO_SITE)
CAMERA = SITE.camera("lanting-gate")
ZONE_NORTH = CAMERA.zone("fire-lane-north")
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "evidence"
BUS = Path(ultralytics.__file__).parent / "assets" / "bus.jpg"
AT = datetime(2026, 12, 2, 2, 15, 3, tzinfo=UTC)


def facts(hazard_id: int = 123, box: tuple[float, float, float, float] = (20.0, 230.0, 805.0, 750.0)) -> HazardFacts:
    return HazardFacts(hazard_id, ZONE_NORTH, box, "vehicle", "bus", 0.87, 312, AT)


def test_the_caption_carries_what_a_notice_needs() -> None:
    zh = caption_lines(translator("zh"), facts(), SITE, CAMERA)
    assert zh[0] == ["隐患 #123", "兰亭苑 Lanting Garden", "1 Lanting Road"]
    assert zh[1] == ["摄像头 North gate, fire lane (lanting-gate)", "拍摄于 2026-12-02 10:15:03 +08:00"]  # site time
    assert zh[2] == ["机动车 在 北门消防车道 North fire lane 内停留 5 分钟"]
    en = caption_lines(translator("en"), facts(), SITE, CAMERA)
    assert en[0][0] == "Hazard #123" and en[1][1] == "Captured 2026-12-02 10:15:03 +08:00"
    assert en[2] == ["Vehicle in 北门消防车道 North fire lane for 5 min"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_real_photo_is_drawn_with_zone_object_and_caption_band(lang: str) -> None:
    image = cv2.imread(str(BUS))
    pictures = hazard_pictures(image, facts(), SITE, CAMERA, translator(lang))
    OUTPUT.mkdir(parents=True, exist_ok=True)
    (OUTPUT / f"bus-{lang}.jpg").write_bytes(pictures["annotated"])
    annotated = cv2.imdecode(np.frombuffer(pictures["annotated"], np.uint8), cv2.IMREAD_COLOR)
    thumb = cv2.imdecode(np.frombuffer(pictures["thumbnail"], np.uint8), cv2.IMREAD_COLOR)
    assert annotated.shape[1] == image.shape[1] and annotated.shape[0] > image.shape[0] + 80  # the band below
    assert max(thumb.shape[:2]) == 320
    outline = annotated[round(0.98 * image.shape[0]), image.shape[1] // 2]  # the fire lane's bottom edge
    assert np.abs(outline.astype(int) - np.array(ZONE)).max() < 60


def test_the_pipeline_draws_the_hazard_with_its_number_and_keeps_the_frame(harness: Harness) -> None:  # noqa: F811
    car = ("car", "vehicle", (200.0, 300.0, 400.0, 450.0))  # ground point y 450/480: in the north fire lane
    t0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    frames = []
    for i, seconds in enumerate((0, 150, 300)):
        body, image = png_bytes(40 + i, (640, 480))
        harness.detector.register(image, detections(car, confidence=0.87))
        response = harness.client.post(
            "/api/v1/cameras/lanting-gate/frames",
            content=body,
            headers=harness.headers("gateway") | {"Content-Type": "image/png"},
            params={"captured_at": (t0 + timedelta(seconds=seconds)).isoformat()},
        )
        assert response.status_code == 201, response.text
        frames.append(body)
    opened = response.json()["hazards"]
    assert [h["change"] for h in opened] == ["opened"]
    hazard_id = opened[0]["hazard_id"]
    detail = harness.client.get(f"/api/v1/hazards/{hazard_id}", headers=harness.headers("admin")).json()
    evidence = {e["kind"]: e for e in detail["evidence"]}
    assert evidence["original"]["sha256"] == hashlib.sha256(frames[-1]).hexdigest()  # the frame, untouched
    stored = harness.client.get(evidence["annotated"]["url"], headers=harness.headers("admin")).content
    assert hashlib.sha256(stored).hexdigest() == evidence["annotated"]["sha256"]
    # Drawn from this hazard's own facts: its number and the frame's capture time (site time) in the caption.
    frame, _ = decode_image(frames[-1], 40_000_000)
    expected = HazardFacts(hazard_id, ZONE_NORTH, car[2], "vehicle", "car", 0.87, 300, t0 + timedelta(seconds=300))
    assert stored == hazard_pictures(frame, expected, SITE, CAMERA, translator("zh"))["annotated"]
    assert stored != hazard_pictures(frame, facts(hazard_id + 1, car[2]), SITE, CAMERA, translator("zh"))["annotated"]
