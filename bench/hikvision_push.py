"""Hikvision alarm-server endpoint: notifications per second with a picture, answered and processed.

    .venv/bin/python bench/hikvision_push.py            # 300 notifications with a 1920x1080 JPEG each
    .venv/bin/python bench/hikvision_push.py --smoke    # 20, proves it runs

Multipart bodies built as the firmware builds them (XML first, the scene picture and a small target crop),
posted through the real app (TestClient, one client) with a gateway key, to the demo site's lanting-gate
configured as a device. Printed: how fast the endpoint answers (what the device waits for) and how fast the
pictures behind it are processed (decode, model, dwell, database) with the default model when it is installed,
else a detector that finds nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("CLEARWAY_DELIVERY_REPORTS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth.keys import create_key
from service.config.settings import DEMO_SITE, Settings
from service.vision.types import Detections
from tests.devices.hikvision_device import MAC, alert_xml, jpeg, multipart


class NoDetector:
    def detect(self, image: object) -> Detections:
        return Detections.empty()


def site_file(folder: Path) -> Path:
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    for camera in data["cameras"]:
        if camera["id"] == "lanting-gate":
            camera["device"] = {"mac": MAC}
    path = folder / "site.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def camera_picture() -> bytes:
    """A real photo (Ultralytics' bus.jpg) as a 1920x1080 camera JPEG, quality 85: what a camera sends."""
    import io

    import ultralytics
    from PIL import Image

    photo = Image.open(Path(ultralytics.__file__).parent / "assets" / "bus.jpg").convert("RGB")
    buffer = io.BytesIO()
    photo.resize((1920, 1080)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--count", type=int, default=300)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    count = 20 if args.smoke else args.count
    tmp = Path(tempfile.mkdtemp(prefix="clearway-hikvision-bench-"))
    settings = Settings(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / 'bench.db'}",
        site_file=site_file(tmp),
        device_queue=count + 10,
        streams_enabled=False,
    )
    model = Path(settings.models_dir) / "yolov3-tiny-coco.onnx"
    factory = None if model.exists() and not args.smoke else NoDetector
    with TestClient(create_app(settings, detector_factory=factory)) as client:
        runtime = client.app.state.runtime
        with runtime.db.session() as session:
            key = create_key(session, "bench", "gateway", camera_ids=["lanting-gate"])
        scene, crop = camera_picture(), jpeg(2, (120, 160))
        bodies = []
        for n in range(count):
            when = f"2026-05-01T16:{n // 60 % 60:02d}:{n % 60:02d}+08:00"
            bodies.append(multipart(alert_xml(when=when), [scene + bytes([n % 251]), crop]))
        latencies = []
        started = time.perf_counter()
        for body, content_type in bodies:
            sent = time.perf_counter()
            answer = client.post(
                "/api/v1/push/hikvision",
                content=body,
                headers={"Content-Type": content_type, "Authorization": f"Bearer {key}"},
            )
            latencies.append((time.perf_counter() - sent) * 1000)
            assert answer.status_code == 200, answer.text
        answered = time.perf_counter() - started
        runtime.devices.join()
        processed = time.perf_counter() - started
    detector = "the default model" if factory is None else "a detector that finds nothing"
    print(f"{count} notifications, each with a {len(scene) // 1024} KiB 1920x1080 JPEG, {detector}:")
    print(
        f"  answered   {count / answered:7.1f} notifications/s  (median {statistics.median(latencies):.1f} ms, "
        f"worst {max(latencies):.1f} ms)"
    )
    print(f"  processed  {count / processed:7.1f} pictures/s       (decode, model, dwell, database)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
