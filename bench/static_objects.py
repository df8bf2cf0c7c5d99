"""Per-frame cost of static-object detection (service/scene/detector.py) at 640x360 and 1920x1080.

    .venv/bin/python bench/static_objects.py            # 40 timed frames per size, 1 and default threads
    .venv/bin/python bench/static_objects.py --smoke    # a few frames, proves it runs (CI)

Frames are the scripted "boxes_day" sequence (real photos, datasets/static_sequences.py) rendered at each size,
so the model does its real work: a static region to report, passers-by to reject, a ghost test now and then.
The start-up frames (reference consensus) are timed separately. Reports median and 90th percentile, and the
share spent on decoding-side work (grey conversion + downscale), which is all that grows with resolution.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasets.static_sequences import ZONE, build
from service.scene.detector import StaticObjectDetector, StaticSettings

SIZES = ((640, 360), (1920, 1080))


def measure(frames: list[np.ndarray], timed: int, settings: StaticSettings) -> dict[str, float]:
    detector = StaticObjectDetector([ZONE], settings=settings)
    startup: list[float] = []
    steady: list[float] = []
    prep: list[float] = []
    i = 0
    while len(steady) < timed:
        frame = frames[i % len(frames)]
        learning = detector.reference is None or bool(detector.bootstrap)
        start = time.perf_counter()
        detector.update(frame)
        elapsed = 1000 * (time.perf_counter() - start)
        (startup if learning else steady).append(elapsed)
        if not learning:
            start = time.perf_counter()
            detector._grey(frame)
            prep.append(1000 * (time.perf_counter() - start))
        i += 1
    steady.sort()
    return {
        "median": statistics.median(steady),
        "p90": steady[int(0.9 * (len(steady) - 1))],
        "prep": statistics.median(prep),
        "startup": statistics.median(startup),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--smoke", action="store_true", help="a few frames only")
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--work-width", type=int, default=StaticSettings().work_width)
    args = parser.parse_args()
    timed = 3 if args.smoke else args.frames
    settings = StaticSettings(work_width=args.work_width)
    default_threads = cv2.getNumThreads()
    print(f"static-object detection, work width {settings.work_width} px, {timed} timed frames (ms per frame)")
    print(f"{'frame size':>10} {'threads':>7} {'median':>7} {'p90':>7} {'grey+resize':>11} {'start-up':>8}")
    for size in SIZES:
        frames = build("boxes_day", size=size).frames
        for threads in sorted({1, default_threads}):
            cv2.setNumThreads(threads)
            r = measure(frames, timed, settings)
            print(
                f"{size[0]:>5}x{size[1]:<4} {threads:>7} {r['median']:7.2f} {r['p90']:7.2f} "
                f"{r['prep']:11.2f} {r['startup']:8.2f}"
            )
    cv2.setNumThreads(default_threads)


if __name__ == "__main__":
    main()
