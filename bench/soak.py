"""Soak: frames from several simulated cameras for a while, with retention on; memory, file descriptors, database
and disk size printed over time, so one can see them level off instead of growing.

    .venv/bin/python bench/soak.py                  # 20 minutes, 4 cameras, a frame per camera per second
    .venv/bin/python bench/soak.py --minutes 5
    .venv/bin/python bench/soak.py --smoke          # 40 seconds, proves it runs

The real app (TestClient) on SQLite, with a detector that sees a car in the fire lane in every other frame (so
pictures are kept as possible evidence), retention keeping frames no hazard needs for one minute and running
every 10 s. Each line: elapsed time, frames sent, resident memory, open file descriptors, database size,
evidence folder size and files, rows in `frames`.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("CLEARWAY_DELIVERY_REPORTS", "0")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import func, select

from service.api.app import create_app
from service.auth.keys import create_key
from service.config.settings import Settings
from service.store import models as m
from service.vision.types import Detections
from tests.support import detections

CAMERAS = ["lanting-gate", "lanting-b3-stair", "huayuan-lane", "huayuan-corridor"]


class HalfTheTimeACar:
    """A car low in the picture (inside the fire lanes of the demo cameras) in every other frame of a camera."""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, image: np.ndarray) -> Detections:
        self.calls += 1
        if (self.calls // len(CAMERAS)) % 2:  # frames come round-robin: each camera sees the car every other round
            return Detections.empty()
        h, w = image.shape[:2]
        return detections(("car", "vehicle", (w * 0.35, h * 0.62, w * 0.6, h * 0.95)))


def picture(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (180, 320, 3), dtype=np.uint8)).save(buffer, format="JPEG", quality=70)
    return buffer.getvalue()


def folder_size(root: Path) -> tuple[int, int]:
    files = [p for p in root.rglob("*") if p.is_file()]
    return sum(p.stat().st_size for p in files), len(files)


def resident_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=20.0)
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    seconds = 40.0 if args.smoke else args.minutes * 60
    tmp = Path(tempfile.mkdtemp(prefix="clearway-soak-"))
    settings = Settings(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / 'soak.db'}",
        retention_frames_days=1 / 1440,  # one minute
        retention_detections_days=1 / 1440,
        retention_interval_s=10.0,
        streams_enabled=False,
        min_free_disk_mb=0,
    )
    pictures = [picture(n) for n in range(64)]
    with TestClient(create_app(settings, detector_factory=HalfTheTimeACar)) as client:
        runtime = client.app.state.runtime
        with runtime.db.session() as session:
            key = create_key(session, "soak", "gateway", camera_ids=CAMERAS)
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "image/jpeg"}
        columns = ("elapsed", 8), ("frames", 7), ("RSS MB", 7), ("fds", 4), ("db MB", 6), ("evid MB", 7), ("files", 6)
        print(" ".join(f"{name:>{width}}" for name, width in (*columns, ("rows", 6))))
        started, sent, report_at, n = time.monotonic(), 0, 0.0, 0
        while (elapsed := time.monotonic() - started) < seconds:
            for camera in CAMERAS:
                n += 1
                body = pictures[n % len(pictures)] + n.to_bytes(4, "big")  # every frame distinct
                when = datetime.now(UTC).isoformat()
                answer = client.post(
                    f"/api/v1/cameras/{camera}/frames", content=body, headers=headers, params={"captured_at": when}
                )
                assert answer.status_code == 201, answer.text
                sent += 1
            if elapsed >= report_at:
                size, files = folder_size(settings.evidence_dir)
                with runtime.db.session() as session:
                    rows = session.scalar(select(func.count()).select_from(m.FrameRecord))
                database = sum(p.stat().st_size for p in tmp.glob("soak.db*")) / 2**20
                print(
                    f"{elapsed:7.0f}s {sent:7d} {resident_mb():7.1f} {len(os.listdir('/proc/self/fd')):4d} "
                    f"{database:6.1f} {size / 2**20:7.1f} {files:6d} {rows:6d}"
                )
                report_at += 10 if args.smoke else 60
            time.sleep(max(0.0, 1.0 - (time.monotonic() - started - elapsed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
