"""The service's own cost per frame, without the model: what every stage around inference takes.

    .venv/bin/python bench/frame_overhead.py                 # 1080p scene, 200 frames (~30 s)
    .venv/bin/python bench/frame_overhead.py --scene photo   # the portrait photo
    .venv/bin/python bench/frame_overhead.py --smoke         # a few frames, proves it runs (CI)

Why apart from `make bench`: the pipeline bench's frames/s depend on the model's speed and on how four cameras'
frames overlap on two cores; this measures only what the service adds around the model. Here one camera pushes
the bus scene (bench/scenes.py) in capture order through the real app (HTTP routes, auth, decode, unknown-object
model, dwell, database, evidence, hazards opening and updating) in this process, with the model replaced by its
own answer on the first frame, returned at once: so the figures are the service's own work. They still move by
up to ±15 % between runs on a shared VM: compare a change by several runs, interleaved with the code before it.
Printed: CPU per frame of the whole process (the in-process HTTP client included: a request's whole round trip
through it, client and server, is about 2.5 ms of CPU) and the median of every stage the frame answer reports.
A SQLite database in a temporary folder, as `clearway serve` has by default.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="clearway-bench-yolo-"))

import numpy as np
import scenes
import yaml
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth.keys import create_key
from service.config.settings import Settings
from service.vision.classmap import DEFAULT_CLASSMAP, ClassMap
from service.vision.decoding import decode
from service.vision.detector import resolve_model
from service.vision.onnx_backend import OnnxDetector
from service.vision.types import Detections

REPO = Path(__file__).resolve().parents[1]
IMGSZ = 320
WARM_UP = 5


class FixedAnswer:
    """The model's answer on the scene's first frame, for every frame, at no cost: the bus stays parked."""

    def __init__(self, answer: Detections) -> None:
        self.answer = answer

    def detect(self, image: np.ndarray) -> Detections:
        return self.answer[np.arange(len(self.answer))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scene", choices=sorted(scenes.SIZES), default="1080p")
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--smoke", action="store_true", help="10 frames")
    args = parser.parse_args()
    count = 10 if args.smoke else args.frames
    frames = scenes.frames(args.scene, count + WARM_UP)
    model = resolve_model(os.environ.get("CLEARWAY_MODEL") or None, REPO / "models")
    real = OnnxDetector(model, ClassMap.load(DEFAULT_CLASSMAP), imgsz=IMGSZ, threads=1)
    answer = real.detect(decode(frames[0], 40_000_000, IMGSZ).image)
    work = Path(tempfile.mkdtemp(prefix="clearway-bench-overhead-"))
    (work / "site.yaml").write_text(yaml.safe_dump(scenes.site(1)))
    settings = Settings(data_dir=work / "data", site_file=work / "site.yaml", imgsz=IMGSZ, models_dir=REPO / "models")
    camera = scenes.camera_ids(1)[0]
    with TestClient(create_app(settings, detector_factory=lambda: FixedAnswer(answer))) as client:
        with client.app.state.runtime.db.session() as session:
            key = create_key(session, "bench", "gateway", camera_ids=[camera])
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "image/jpeg"}
        t0 = datetime.now(UTC) - timedelta(seconds=5 * len(frames) + 600)

        def push(step: int) -> dict:
            when = (t0 + timedelta(seconds=5 * step)).isoformat()
            response = client.post(
                f"/api/v1/cameras/{camera}/frames", content=frames[step], headers=headers, params={"captured_at": when}
            )
            if response.status_code != 201:
                raise RuntimeError(f"frame {step}: {response.status_code} {response.text[:300]}")
            return response.json()

        for step in range(WARM_UP):
            push(step)
        stages: dict[str, list[float]] = {}
        cpu, wall = time.process_time(), time.perf_counter()
        for step in range(WARM_UP, len(frames)):
            for stage, ms in push(step)["timings_ms"].items():
                stages.setdefault(stage, []).append(ms)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{args.scene} scene, {count} frames, one camera, the model's answer fixed (imgsz {IMGSZ} for it)")
    print(f"CPU per frame {cpu * 1000 / count:.1f} ms, wall {wall * 1000 / count:.1f} ms")
    print("stage medians (ms; 'database' includes 'evidence'; a stage a frame did not need is left out of it):")
    for stage, values in stages.items():
        print(f"  {stage:16s} {statistics.median(values):6.2f}  ({len(values)} frames)")


if __name__ == "__main__":
    main()
