"""Fuse static regions (background model) with the detector's boxes: one row per physical object.

Why: a parked motorcycle is both a YOLO `motorcycle` and a static region. Reporting both would open two
hazards for one object, and a pile of boxes is only ever a static region. Rules:

- a static region *explained* by a detection (IoU >= `min_iou`, or the region lies mostly inside the
  detection's box: part of a car) is that object: the detection row stands for it (better box and class),
  the region is dropped;
- a static region explained by a person is dropped: persons never count (someone standing still);
- an unexplained region stays as `clutter` / `unknown_object`, origin "static", with its own box.

`StaticFusion` adds a short memory: the tracker matches within a category, so a region that was a motorcycle a
moment ago must not turn into clutter in the one frame YOLO misses it. While remembered (by box overlap, for
`memory_frames` frames; `person_memory_frames` for persons, so a bag left by someone standing there is not
hidden for long) the region keeps the category and class it was explained with.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from service.vision.geometry import containment_matrix, iou_matrix
from service.vision.types import Detections


def explain(static: Detections, detections: Detections, min_iou: float = 0.3, min_inside: float = 0.7) -> np.ndarray:
    """For each static region, the index of the detection that explains it best, or -1.

    A small detection inside a large region does not explain it (a bicycle leaning on a pile of boxes).
    """
    if not len(static) or not len(detections):
        return np.full(len(static), -1, dtype=np.int64)
    iou = iou_matrix(static.xyxy, detections.xyxy)
    region_inside = containment_matrix(static.xyxy, detections.xyxy)
    ok = (iou >= min_iou) | (region_inside >= min_inside)
    score = np.where(ok, iou + 0.5 * region_inside, -1.0)
    best = np.argmax(score, axis=1)
    return np.where(score[np.arange(len(static)), best] >= 0, best, -1)


def fuse(static: Detections, detections: Detections, min_iou: float = 0.3, min_inside: float = 0.7) -> Detections:
    """Detections (all of them, persons included: the engine counts but never alarms on them) plus the static
    regions no detection explains, as clutter."""
    best = explain(static, detections, min_iou, min_inside)
    leftover = static[best < 0]
    leftover = Detections(
        xyxy=leftover.xyxy,
        confidence=leftover.confidence,
        class_name=["unknown_object"] * len(leftover),
        category=["clutter"] * len(leftover),
        origin=["static"] * len(leftover),
    )
    return Detections.merge([detections, leftover])


@dataclass
class _Memory:
    box: np.ndarray
    category: str
    class_name: str
    age: int = 0


@dataclass
class StaticFusion:
    """`fuse` with a per-camera memory of what each static region was explained as (keep one per camera)."""

    memory_frames: int = 10
    person_memory_frames: int = 2
    min_iou: float = 0.3
    min_inside: float = 0.7
    _memory: list[_Memory] = field(default_factory=list)

    def __call__(self, static: Detections, detections: Detections) -> Detections:
        best = explain(static, detections, self.min_iou, self.min_inside)
        for m in self._memory:
            m.age += 1
        keep = np.ones(len(static), dtype=bool)
        category = np.array(["clutter"] * len(static), dtype=object)
        class_name = np.array(["unknown_object"] * len(static), dtype=object)
        remembered = [m.box for m in self._memory]
        overlap = iou_matrix(static.xyxy, np.array(remembered).reshape(-1, 4))
        for i in range(len(static)):
            if best[i] >= 0:
                keep[i] = False  # the detection row stands for the object
                j = int(best[i])
                self._remember(static.xyxy[i], str(detections.category[j]), str(detections.class_name[j]), overlap[i])
                continue
            if overlap.shape[1] and overlap[i].max() >= self.min_iou:
                m = self._memory[int(np.argmax(overlap[i]))]
                category[i], class_name[i] = m.category, m.class_name
                keep[i] = m.category != "person"
        self._memory = [
            m
            for m in self._memory
            if m.age <= (self.person_memory_frames if m.category == "person" else self.memory_frames)
        ]
        rows = static[keep]
        leftover = Detections(
            xyxy=rows.xyxy,
            confidence=rows.confidence,
            class_name=class_name[keep],
            category=category[keep],
            origin=["static"] * len(rows),
        )
        return Detections.merge([detections, leftover])

    def _remember(self, box: np.ndarray, category: str, class_name: str, overlap: np.ndarray) -> None:
        if overlap.size and overlap.max() >= self.min_iou:
            m = self._memory[int(np.argmax(overlap))]
            m.box, m.category, m.class_name, m.age = box.copy(), category, class_name, 0
        else:
            self._memory.append(_Memory(box.copy(), category, class_name))
