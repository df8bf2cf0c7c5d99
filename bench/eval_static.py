"""Precision/recall of static-object obstruction events on the scripted sequences (datasets/static_sequences.py).

    .venv/bin/python bench/eval_static.py                  # the service's detector, every case
    .venv/bin/python bench/eval_static.py --method mog2    # OpenCV MOG2 dual-background baseline
    .venv/bin/python bench/eval_static.py --cases boxes_day quiet_rain

An *obstruction event* is the dwell rule in miniature: a static region that persists in `k` consecutive
sampled frames (linked frame to frame by IoU >= 0.3). An event is a true positive when, at the frame it fires,
it overlaps a ground-truth object present in that frame with IoU >= 0.3; a false alarm otherwise. A later event
on an object already found is a duplicate (the tracker would keep the same hazard), reported separately.
Recall: objects (present for at least k frames) with an event / objects.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasets.static_sequences import ZONE, Case, build, build_all
from service.scene.detector import StaticObjectDetector
from service.vision.geometry import iou_matrix
from service.vision.types import Detections

K = 3
IOU = 0.3


@dataclass
class CaseResult:
    name: str
    positive: bool
    objects: int
    found: int
    true_events: int
    false_alarms: int
    duplicates: int
    latency: list[int]
    ms_per_frame: float
    covered: int = 0
    to_cover: int = 0

    @property
    def precision(self) -> float:
        events = self.true_events + self.false_alarms
        return self.true_events / events if events else 1.0

    @property
    def recall(self) -> float:
        return self.found / self.objects if self.objects else 1.0


def events(
    per_frame: list[np.ndarray], truth: list[dict[str, tuple[float, ...]]], k: int = K
) -> tuple[set[str], int, int, int, list[int]]:
    """(objects found, true events, false alarms, duplicates, latencies in frames) for one sequence."""
    chains: list[tuple[np.ndarray, int]] = []  # (last box, length)
    found: set[str] = set()
    first_seen: dict[str, int] = {}
    true_events = false_alarms = duplicates = 0
    latency: list[int] = []
    for t, boxes in enumerate(per_frame):
        for name in truth[t]:
            first_seen.setdefault(name, t)
        iou = iou_matrix(np.array([c[0] for c in chains]).reshape(-1, 4), boxes)
        new_chains: list[tuple[np.ndarray, int]] = []
        used: set[int] = set()
        for b in range(len(boxes)):
            best = int(np.argmax(iou[:, b])) if len(chains) else -1
            length = 1
            if best >= 0 and iou[best, b] >= IOU and best not in used:
                used.add(best)
                length = chains[best][1] + 1
            new_chains.append((boxes[b], length))
            if length != k:
                continue
            names = list(truth[t])
            gt = np.array([truth[t][n] for n in names]).reshape(-1, 4)
            overlap = iou_matrix(boxes[b : b + 1], gt)[0] if len(names) else np.zeros(0)
            hit = [names[i] for i in np.argsort(-overlap) if overlap[i] >= IOU]
            if not hit:
                false_alarms += 1
            elif hit[0] in found:
                duplicates += 1
            else:
                found.add(hit[0])
                true_events += 1
                latency.append(t - first_seen[hit[0]])
        chains = new_chains
    return found, true_events, false_alarms, duplicates, latency


def _objects(truth: list[dict[str, tuple[float, ...]]], k: int = K) -> set[str]:
    counts: dict[str, int] = {}
    for frame in truth:
        for name in frame:
            counts[name] = counts.get(name, 0) + 1
    return {n for n, c in counts.items() if c >= k}


class Mog2Baseline:
    """Dual-rate MOG2 (long-term slow, short-term fast): static = foreground long-term, background short-term."""

    def __init__(self, zone: list[tuple[float, float]]) -> None:
        self.zone = zone
        self.long = cv2.createBackgroundSubtractorMOG2(history=500, varThreshold=25, detectShadows=True)
        self.short = cv2.createBackgroundSubtractorMOG2(history=3, varThreshold=25, detectShadows=True)
        self.mask: np.ndarray | None = None

    def update(self, image: np.ndarray) -> Detections:
        small = cv2.resize(image, (320, 180), interpolation=cv2.INTER_AREA)
        if self.mask is None:
            self.mask = np.zeros(small.shape[:2], np.uint8)
            cv2.fillPoly(self.mask, [(np.array(self.zone) * [320, 180]).astype(np.int32)], 1)
        long_fg = self.long.apply(small, learningRate=0.002) == 255
        short_fg = self.short.apply(small, learningRate=0.5) == 255
        static = (long_fg & ~short_fg & (self.mask > 0)).astype(np.uint8)
        static = cv2.morphologyEx(static, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
        count, _, stats, _ = cv2.connectedComponentsWithStats(static)
        sx, sy = image.shape[1] / 320, image.shape[0] / 180
        boxes = [[x * sx, y * sy, (x + w) * sx, (y + h) * sy] for x, y, w, h, a in stats[1:count] if a >= 86]
        n = len(boxes)
        return Detections(np.array(boxes).reshape(n, 4), [1.0] * n, ["unknown_object"] * n, ["clutter"] * n)


def detector_for(method: str) -> Callable[[], object]:
    if method == "mog2":
        return lambda: Mog2Baseline(ZONE)
    return lambda: StaticObjectDetector([ZONE])


def evaluate(case: Case, make: Callable[[], object], k: int = K) -> CaseResult:
    detector = make()
    per_frame, elapsed = [], 0.0
    for image in case.frames:
        start = time.perf_counter()
        out = detector.update(image)  # type: ignore[attr-defined]
        elapsed += time.perf_counter() - start
        per_frame.append(out.xyxy.astype(np.float64))
    found, tp, fa, dup, latency = events(per_frame, case.truth, k)
    objects = _objects(case.truth, k)
    covered, to_cover = coverage(per_frame, case.truth, k)
    ms = 1000 * elapsed / len(case.frames)
    return CaseResult(
        case.name, case.positive, len(objects), len(found & objects), tp, fa, dup, latency, ms, covered, to_cover
    )


def coverage(per_frame: list[np.ndarray], truth: list[dict[str, tuple[float, ...]]], k: int = K) -> tuple[int, int]:
    """Frames, from each object's (k+2)-th frame on, in which a region overlaps it (IoU >= 0.3): a hazard
    stays open only while its object keeps being reported."""
    seen: dict[str, int] = {}
    covered = to_cover = 0
    for t, present in enumerate(truth):
        for name, box in present.items():
            seen[name] = seen.get(name, 0) + 1
            if seen[name] <= k + 1:
                continue
            to_cover += 1
            overlap = iou_matrix(np.array([box]), per_frame[t])
            covered += bool(overlap.size and overlap.max() >= IOU)
    return covered, to_cover


def table(results: list[CaseResult]) -> str:
    lines = [
        f"{'case':24} {'objects':>7} {'found':>5} {'events':>6} {'false':>5} {'dup':>3} "
        f"{'precision':>9} {'recall':>6} {'latency':>8} {'held':>5} {'ms/frame':>8}"
    ]
    for r in results:
        lat = ",".join(str(v) for v in r.latency) or "-"
        held = f"{r.covered / r.to_cover:.2f}" if r.to_cover else "-"
        lines.append(
            f"{r.name:24} {r.objects:7d} {r.found:5d} {r.true_events + r.false_alarms:6d} {r.false_alarms:5d} "
            f"{r.duplicates:3d} {r.precision:9.2f} {r.recall:6.2f} {lat:>8} {held:>5} {r.ms_per_frame:8.1f}"
        )
    pos = [r for r in results if r.positive]
    neg = [r for r in results if not r.positive]
    tp, fa = sum(r.true_events for r in pos), sum(r.false_alarms for r in pos)
    objects, found = sum(r.objects for r in pos), sum(r.found for r in pos)
    lines.append(
        f"positive cases: precision {tp / max(1, tp + fa):.2f}, recall {found / max(1, objects):.2f} "
        f"({found}/{objects} objects, {fa} false alarms)"
    )
    covered, to_cover = sum(r.covered for r in pos), sum(r.to_cover for r in pos)
    lines.append(f"held: objects reported in {covered}/{to_cover} frames after their event")
    lines.append(f"'nothing happens' cases: {sum(r.false_alarms for r in neg)} false alarms in {len(neg)} sequences")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--method", choices=["static", "mog2"], default="static")
    parser.add_argument("--cases", nargs="*", help="case names (default: all)")
    parser.add_argument("--seed", type=int, default=0, help="another draw of passers-by and noise")
    parser.add_argument("-k", type=int, default=K, help="consecutive frames that make an event")
    args = parser.parse_args()
    cases = [build(n, seed=args.seed) for n in args.cases] if args.cases else build_all(seed=args.seed)
    make = detector_for(args.method)
    print(f"method {args.method}, event = region in {args.k} consecutive samples, IoU >= {IOU}")
    print(table([evaluate(c, make, args.k) for c in cases]))


if __name__ == "__main__":
    main()
