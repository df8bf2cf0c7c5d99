"""Fixtures: objects a reviewer marked as permanent (a kiosk, a registered vehicle that may stand there, a
planter). The dwell engine ignores a detection that is the marked object in its marked place, until the mark
expires; everything else about the frame is unchanged.

"The same object in the same place" is judged by place and kind: the same category (a model may call one
parked vehicle a car in one frame and a truck in the next, as the tracker allows), boxes overlapping by
`MIN_IOU` (fractions of the frame, so a camera's resolution change keeps the mark). Another object of the same
category parked exactly there is ignored too; that is why marks expire, and why pages show
every ignored detection as a fixture (docs/alerts.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from service.vision.geometry import iou_matrix
from service.vision.types import FIXTURE, Detections

__all__ = ["FIXTURE", "FixtureMark", "as_fraction", "fixture_ids"]
MIN_IOU = 0.5


@dataclass(frozen=True)
class FixtureMark:
    id: int
    category: str
    class_name: str
    box: tuple[float, float, float, float]  # x1, y1, x2, y2 as fractions of the frame
    expires_at: datetime


def fixture_ids(
    detections: Detections, marks: Sequence[FixtureMark], width: int, height: int, at: datetime
) -> list[int | None]:
    """For each detection, the fixture it is (best overlap first), or None."""
    found: list[int | None] = [None] * len(detections)
    live = [mark for mark in marks if mark.expires_at > at]
    if not live or not len(detections):
        return found
    scale = np.array([width, height, width, height], dtype=np.float64)
    iou = iou_matrix(detections.xyxy.astype(np.float64), np.array([mark.box for mark in live]) * scale)
    for i in range(len(detections)):
        category = str(detections.category[i])
        candidates = [(iou[i, j], mark.id) for j, mark in enumerate(live) if mark.category == category]
        best = max(candidates, default=(0.0, None))
        if best[0] >= MIN_IOU:
            found[i] = best[1]
    return found


def as_fraction(box: Sequence[float], width: int, height: int) -> list[float]:
    """A pixel box as fractions of its frame, clipped to it: how a mark is stored."""
    x1, y1, x2, y2 = (float(v) for v in box)
    return [
        round(min(max(x1 / width, 0.0), 1.0), 5),
        round(min(max(y1 / height, 0.0), 1.0), 5),
        round(min(max(x2 / width, 0.0), 1.0), 5),
        round(min(max(y2 / height, 0.0), 1.0), 5),
    ]
