"""The second look: before a camera hazard opens, the object's region of the frame again, through the same model.

Why: the model sees a whole 1080p frame shrunk to its input size, where a distant car is a few dozen pixels;
a crop around the object, letterboxed to the same input size, shows it several times larger. The best score
of a same-category detection there that overlaps the object is its *confirmation*. A hazard whose
confirmation stays under the minimum opens as "suspected" (awaiting review, not delivered) instead of as an
alert. Objects no detector class explains (the unknown-object watch) get no second look: the model cannot
confirm what it never learnt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from service.vision.geometry import iou_matrix
from service.vision.types import Detections

Look = Callable[[np.ndarray], Detections | None]
"""Runs the model on an image (None when it could not: the queue was full, it timed out)."""
MARGIN = 0.6  # the crop reaches this fraction of the box's size beyond each side: context the model needs
MIN_SIDE = 96  # pixels: a tiny box is looked at with at least this much around it
MATCH_IOU = 0.3


@dataclass(frozen=True)
class SecondLook:
    score: float | None  # the confirmation (0: the model did not see it again); None: no second look was made
    crop: tuple[int, int, int, int] | None = None  # x1, y1, x2, y2 of the region looked at

    def holds(self, minimum: float) -> bool:
        """True when the hazard should wait for a person instead of alerting."""
        return self.score is not None and self.score < minimum

    def params(self) -> dict:
        return {} if self.score is None else {"second_look": round(self.score, 3)}


def crop_box(box: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int, int]:
    """The region around `box` to look at again, inside the frame."""
    x1, y1, x2, y2 = box
    w, h = max(x2 - x1, 1.0), max(y2 - y1, 1.0)
    pad_x, pad_y = max(w * MARGIN, (MIN_SIDE - w) / 2, 0), max(h * MARGIN, (MIN_SIDE - h) / 2, 0)
    left, top = max(0, int(x1 - pad_x)), max(0, int(y1 - pad_y))
    right, bottom = min(width, int(np.ceil(x2 + pad_x))), min(height, int(np.ceil(y2 + pad_y)))
    return left, top, max(right, left + 1), max(bottom, top + 1)


Box = tuple[float, float, float, float]


def confirmation(found: Detections, offset: tuple[int, int], box: Box, category: str) -> float:
    """The best confidence of a detection of `category` in the crop that overlaps the object (IoU, frame pixels)."""
    same = [i for i in range(len(found)) if found.category[i] == category]
    if not same:
        return 0.0
    boxes = found.xyxy[same].astype(np.float64) + np.array([offset[0], offset[1], offset[0], offset[1]])
    overlap = iou_matrix(boxes, np.asarray([box], dtype=np.float64))[:, 0]
    scores = np.where(overlap >= MATCH_IOU, found.confidence[same], 0.0)
    return float(scores.max())


def second_look(
    image: np.ndarray, box: tuple[float, float, float, float], category: str, class_name: str, look: Look
) -> SecondLook:
    """Look at the object's region again; see the module's notes for what the score means."""
    if class_name == "unknown_object":
        return SecondLook(None)
    height, width = image.shape[:2]
    x1, y1, x2, y2 = crop_box(box, width, height)
    found = look(np.ascontiguousarray(image[y1:y2, x1:x2]))
    if found is None:
        return SecondLook(None, (x1, y1, x2, y2))
    return SecondLook(confirmation(found, (x1, y1), box, category), (x1, y1, x2, y2))
