"""Batched inference measured: does one model call for several waiting frames beat one call each, here?

    .venv/bin/python bench/batch_inference.py            # full run (~2 min on 2 cores)
    .venv/bin/python bench/batch_inference.py --smoke    # a few frames, proves it runs (CI)

Two parts, on the pipeline bench's 1080p scene (bench/scenes.py) decoded the way the service decodes it for the
model (reduced JPEG decode), through the direct ONNX Runtime backend:

- model alone: `detect_batch` on b frames at once, for b in 1, 2, 4, 8, with 1 intra-op thread and with all cores;
  wall and CPU milliseconds per frame.
- the pool: the service's inference pool with the machine's thread plan (service/vision/threads.py), 4 cameras
  submitting at once, `batch` 1, 2, 4; frames/s and CPU per frame. This is what CLEARWAY_INFERENCE_BATCH changes.

The figures are printed, never asserted: whether batching pays depends on the hardware (a GPU gains from it,
a small CPU may not), which is why the setting exists and why its default follows what this prints.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="clearway-bench-yolo-"))

import numpy as np
import scenes

from service.vision.classmap import DEFAULT_CLASSMAP, ClassMap
from service.vision.decoding import decode
from service.vision.detector import resolve_model
from service.vision.onnx_backend import OnnxDetector
from service.vision.pool import InferencePool
from service.vision.threads import cores, plan
from service.vision.types import Detections

REPO = Path(__file__).resolve().parents[1]
CAMERAS = 4


def model_frames(imgsz: int, count: int) -> list[np.ndarray]:
    """The 1080p scene's JPEGs as the service hands them to the model (decoded at reduced size)."""
    return [decode(data, max_pixels=40_000_000, fit=imgsz).image for data in scenes.frames("1080p", count)]


def model_alone(model: str, frames: list[np.ndarray], imgsz: int, threads: int, batch: int, rounds: int) -> tuple:
    """(wall ms, CPU ms) per frame of `detect_batch` on `batch` frames at a time, medians over `rounds` calls."""
    detector = OnnxDetector(model, ClassMap.load(DEFAULT_CLASSMAP), imgsz=imgsz, threads=threads)
    detector.detect_batch(frames[:batch])  # warm-up
    walls, cpus = [], []
    for round_index in range(rounds):
        start = (round_index * batch) % max(1, len(frames) - batch)
        group = frames[start : start + batch]
        wall, cpu = time.perf_counter(), time.process_time()
        detector.detect_batch(group)
        walls.append((time.perf_counter() - wall) * 1000 / batch)
        cpus.append((time.process_time() - cpu) * 1000 / batch)
    return statistics.median(walls), statistics.median(cpus)


def through_pool(model: str, frames: list[np.ndarray], imgsz: int, batch: int) -> tuple[float, float, float]:
    """(frames/s, CPU ms per frame, mean frames per model call) with CAMERAS threads submitting at once."""
    threads = plan()
    calls: list[int] = []

    class Counting(OnnxDetector):
        def detect_batch(self, images: list[np.ndarray]) -> list[Detections]:
            calls.append(len(images))
            return super().detect_batch(images)

        def detect(self, image: np.ndarray) -> Detections:
            calls.append(1)
            return super().detect(image)

    def make() -> OnnxDetector:
        return Counting(model, ClassMap.load(DEFAULT_CLASSMAP), imgsz=imgsz, threads=threads.inference)

    pool = InferencePool(make, workers=threads.workers, capacity=64, batch=batch)
    pool.wait_ready(60)
    for image in frames[: threads.workers * 2]:
        pool.submit(image).result(60)  # warm-up, every worker
    calls.clear()

    def camera(index: int) -> None:
        for image in frames[index::CAMERAS]:
            pool.submit(image).result(60)

    wall, cpu = time.perf_counter(), time.process_time()
    pushers = [threading.Thread(target=camera, args=(i,)) for i in range(CAMERAS)]
    for pusher in pushers:
        pusher.start()
    for pusher in pushers:
        pusher.join()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    pool.close()
    return len(frames) / wall, cpu * 1000 / len(frames), len(frames) / max(1, len(calls))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=64, help="frames per pool row")
    parser.add_argument("--rounds", type=int, default=12, help="timed calls per model-alone row")
    parser.add_argument("--imgsz", type=lambda t: [int(i) for i in t.split(",")], default=[320, 480])
    parser.add_argument("--smoke", action="store_true", help="imgsz 320, a few frames")
    args = parser.parse_args()
    if args.smoke:
        args.frames, args.rounds, args.imgsz = 8, 2, [320]
    models_dir = Path(os.environ.get("CLEARWAY_MODELS_DIR", REPO / "models"))
    model = resolve_model(os.environ.get("CLEARWAY_MODEL") or None, models_dir)
    threads = plan()
    threads.apply()
    print(
        f"model {Path(model).name}, 1080p scene, {cores()} cores; pool plan: {threads.workers} workers x "
        f"{threads.inference} thread(s)"
    )
    batches = (1, 2) if args.smoke else (1, 2, 4, 8)
    for imgsz in args.imgsz:
        frames = model_frames(imgsz, max(args.frames, 8))
        print(f"\nimgsz {imgsz}, model alone: ms per frame (wall / CPU), median of {args.rounds} calls")
        for intra in sorted({1, cores()}):
            cells = [model_alone(model, frames, imgsz, intra, b, args.rounds) for b in batches]
            row = "  ".join(f"batch {b}: {w:5.1f} / {c:5.1f}" for b, (w, c) in zip(batches, cells, strict=True))
            print(f"  {intra} thread(s)  {row}")
        print(f"imgsz {imgsz}, the pool, {CAMERAS} cameras at once, {len(frames)} frames")
        for batch in batches[:3]:
            fps, cpu_ms, per_call = through_pool(model, frames, imgsz, batch)
            print(f"  batch {batch}: {fps:5.1f} frames/s, CPU {cpu_ms:5.1f} ms/frame, {per_call:.2f} frames per call")


if __name__ == "__main__":
    main()
