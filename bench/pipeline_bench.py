"""Pipeline benchmark: per-stage times and frames/s through the real HTTP endpoint, against a bare
`YOLO.predict` loop on the same images, at imgsz 640 and 320.

    .venv/bin/python bench/pipeline_bench.py            # full run (~2-4 min on 2 cores)
    .venv/bin/python bench/pipeline_bench.py --smoke    # a few frames, proves it runs (CI)

A real uvicorn server on 127.0.0.1 with the offline default model and a temporary SQLite database;
frames are real photos shipped in installed packages, made distinct with a little noise (the service
refuses exact duplicates).
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="clearway-bench-yolo-"))

import cv2
import httpx
import numpy as np
import uvicorn

REPO = Path(__file__).resolve().parents[1]
STAGES = ("decode", "queue_wait", "inference", "static_objects", "zones_dwell", "database", "evidence")


def photos() -> list[np.ndarray]:
    import skimage.data
    import ultralytics

    assets = Path(ultralytics.__file__).parent / "assets"
    images = [cv2.imread(str(assets / name)) for name in ("bus.jpg", "zidane.jpg")]
    images.append(cv2.cvtColor(skimage.data.chelsea(), cv2.COLOR_RGB2BGR))
    return [i for i in images if i is not None]


def jpeg_frames(count: int) -> list[bytes]:
    rng = np.random.default_rng(0)
    base = photos()
    frames = []
    for i in range(count):
        image = base[i % len(base)].astype(np.int16) + rng.integers(-2, 3, base[i % len(base)].shape)
        frames.append(cv2.imencode(".jpg", np.clip(image, 0, 255).astype(np.uint8))[1].tobytes())
    return frames


def bare_predict(model_path: str, frames: list[bytes], imgsz: int) -> float:
    """Milliseconds per frame for decode + YOLO.predict, the floor the service is compared with."""
    from ultralytics import YOLO

    model = YOLO(model_path, task="detect")
    model.predict(cv2.imdecode(np.frombuffer(frames[0], np.uint8), cv2.IMREAD_COLOR), imgsz=imgsz, verbose=False)
    started = time.perf_counter()
    for data in frames:
        model.predict(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR), imgsz=imgsz, verbose=False)
    return (time.perf_counter() - started) * 1000 / len(frames)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(imgsz: int, data_dir: Path) -> tuple[uvicorn.Server, str, str]:
    from service.api.app import create_app
    from service.auth.keys import create_key
    from service.config.settings import Settings

    settings = Settings(data_dir=data_dir, imgsz=imgsz, models_dir=REPO / "models", inference_queue=64)
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    with app.state.runtime.db.session() as session:
        key = create_key(session, "bench", "gateway", camera_ids=["lanting-gate"])
    return server, f"http://127.0.0.1:{port}", key


def through_http(imgsz: int, frames: list[bytes], concurrency: int) -> tuple[float, dict[str, list[float]]]:
    with tempfile.TemporaryDirectory(prefix="clearway-bench-") as tmp:
        server, base, key = serve(imgsz, Path(tmp))
        stages: dict[str, list[float]] = {s: [] for s in STAGES}
        t0 = datetime.now(UTC) - timedelta(hours=1)
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=120) as client:

            def push(index: int) -> dict:
                response = client.post(
                    "/api/v1/cameras/lanting-gate/frames",
                    content=frames[index],
                    headers={"Content-Type": "image/jpeg"},
                    params={"captured_at": (t0 + timedelta(seconds=index)).isoformat()},
                )
                response.raise_for_status()
                return response.json()

            push(0)  # warm-up: model already loaded, first-call allocations
            started = time.perf_counter()
            with ThreadPoolExecutor(concurrency) as pool:
                results = list(pool.map(push, range(1, len(frames))))
            elapsed = time.perf_counter() - started
        server.should_exit = True
        for result in results:
            for stage in STAGES:
                stages[stage].append(result["timings_ms"].get(stage, 0.0))
        return len(results) / elapsed, stages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="4 frames at imgsz 320 only")
    args = parser.parse_args()
    sizes = (320,) if args.smoke else (640, 320)
    count = 4 if args.smoke else args.frames
    from service.vision.detector import resolve_model

    model = resolve_model(None, REPO / "models")
    frames = jpeg_frames(count + 1)
    print(f"model {Path(model).name}, {count} frames, {os.cpu_count()} CPUs, concurrency {args.concurrency}")
    header = f"{'imgsz':>5} | {'bare predict ms':>15} | {'bare fps':>8} | {'HTTP fps':>8} | " + " | ".join(
        f"{s} ms" for s in STAGES
    )
    print(header)
    print("-" * len(header))
    for imgsz in sizes:
        bare_ms = bare_predict(model, frames[1:], imgsz)
        fps, stages = through_http(imgsz, frames, args.concurrency)
        medians = " | ".join(f"{statistics.median(stages[s]):>{len(s) + 3}.1f}" for s in STAGES)
        print(f"{imgsz:>5} | {bare_ms:>15.1f} | {1000 / bare_ms:>8.1f} | {fps:>8.1f} | {medians}")
    print("stage columns are medians per frame, measured inside the service (queue_wait: time spent waiting")
    print("for an inference worker while other frames were being processed)")


if __name__ == "__main__":
    main()
