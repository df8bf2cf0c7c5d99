"""Inference backends compared: Ultralytics `YOLO.predict` (UltralyticsDetector) against the direct ONNX Runtime
backend (OnnxDetector), per frame, at imgsz 320 and 480, with 1 and 2 intra-op threads.

    .venv/bin/python bench/backend_compare.py              # full run (~1 min on 2 cores)
    .venv/bin/python bench/backend_compare.py --quick      # a few frames, proves it runs (CI)

The offline default model on real photos shipped in installed packages (Ultralytics and scikit-image assets).
Each configuration: warm-up on every photo, then timed rounds over all photos; the two backends alternate frame by
frame so a busy neighbour on a shared machine slows both alike. Times are `detect()` calls (BGR array in,
Detections out, class map applied), nothing else. Every timed frame's answers are also compared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="clearway-bench-yolo-"))

import cv2
import numpy as np

from service.vision.classmap import ClassMap
from service.vision.detector import UltralyticsDetector, resolve_model
from service.vision.onnx_backend import OnnxDetector
from service.vision.types import Detections

REPO = Path(__file__).resolve().parents[1]


def photos() -> dict[str, np.ndarray]:
    import skimage
    import ultralytics

    files = [Path(ultralytics.__file__).parent / "assets" / name for name in ("bus.jpg", "zidane.jpg")]
    data = Path(skimage.__file__).parent / "data"
    files += [data / name for name in ("motorcycle_left.png", "astronaut.png", "coffee.png", "chelsea.png")]
    images = {f.stem: cv2.imread(str(f), cv2.IMREAD_COLOR) for f in files}
    return {name: image for name, image in images.items() if image is not None}


def ultralytics_detector(model: str, class_map: ClassMap, imgsz: int, threads: int, image: np.ndarray):
    """UltralyticsDetector whose ONNX Runtime session has the same thread settings as the direct backend's.

    Ultralytics builds its session with ONNX Runtime's defaults (a thread per core) and offers no setting for it,
    so the bench swaps in an equivalent session after the first call (bench only; the service never does this).
    """
    import onnxruntime as ort

    detector = UltralyticsDetector(model, class_map, imgsz=imgsz)
    detector.detect(image)  # builds the predictor and its backend
    options = ort.SessionOptions()
    options.intra_op_num_threads, options.inter_op_num_threads = threads, 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    backend = detector.model.predictor.model.backend
    backend.session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    return detector


def same(a: Detections, b: Detections) -> bool:
    if len(a) != len(b) or sorted(a.class_name) != sorted(b.class_name):
        return False
    order_a, order_b = np.lexsort(a.xyxy.T[::-1]), np.lexsort(b.xyxy.T[::-1])
    return bool(np.abs(a.xyxy[order_a] - b.xyxy[order_b]).max(initial=0) <= 1.0)


def run(model: str, images: list[np.ndarray], imgsz: int, threads: int, warmup: int, rounds: int) -> dict:
    torch_threads = _set_threads(threads)
    class_map = ClassMap.load()
    backends = {
        "ultralytics": ultralytics_detector(model, class_map, imgsz, threads, images[0]),
        "direct": OnnxDetector(model, class_map, imgsz=imgsz, threads=threads),
    }
    for _ in range(warmup):
        for image in images:
            for detector in backends.values():
                detector.detect(image)
    times: dict[str, list[float]] = {name: [] for name in backends}
    mismatches = 0
    for index in range(rounds * len(images)):
        image = images[index % len(images)]
        names = list(backends) if index % 2 == 0 else list(backends)[::-1]  # alternate who goes first
        found = {}
        for name in names:
            started = time.perf_counter()
            found[name] = backends[name].detect(image)
            times[name].append((time.perf_counter() - started) * 1000)
        mismatches += not same(found["ultralytics"], found["direct"])
    _set_threads(torch_threads)
    return {"times": times, "mismatches": mismatches}


def _set_threads(threads: int) -> int:
    """Torch (Ultralytics' pre/post-processing) and OpenCV (resize, both backends) get the same count; the old
    torch count is returned."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    return previous


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds over all photos (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed rounds over all photos first (default 2)")
    parser.add_argument("--quick", action="store_true", help="1 warm-up round and 1 timed round (CI smoke)")
    args = parser.parse_args()
    warmup, rounds = (1, 1) if args.quick else (args.warmup, args.rounds)
    model = resolve_model(None, REPO / "models")
    named = photos()
    images = list(named.values())
    print(f"model {Path(model).name}, photos {', '.join(named)}, {os.cpu_count()} CPUs")
    print(f"{warmup} warm-up round(s), then {rounds} timed round(s) = {rounds * len(images)} frames per backend")
    header = (
        f"{'imgsz':>5} | {'threads':>7} | {'ultralytics ms':>14} | {'fps':>5} | {'direct ms':>9} | {'fps':>5} | "
        f"{'speed-up':>8} | {'same answers':>12}"
    )
    print(header)
    print("-" * len(header))
    for imgsz in (320, 480):
        for threads in (1, 2):
            result = run(model, images, imgsz, threads, warmup, rounds)
            u, d = result["times"]["ultralytics"], result["times"]["direct"]
            frames = len(u)
            print(
                f"{imgsz:>5} | {threads:>7} | {statistics.median(u):>14.1f} | {1000 * frames / sum(u):>5.1f} | "
                f"{statistics.median(d):>9.1f} | {1000 * frames / sum(d):>5.1f} | "
                f"{statistics.median(u) / statistics.median(d):>7.2f}x | "
                f"{frames - result['mismatches']:>5}/{frames:<6}"
            )
    print("ms: median per frame; fps: frames / total time of the timed frames (one backend, one caller)")


if __name__ == "__main__":
    main()
