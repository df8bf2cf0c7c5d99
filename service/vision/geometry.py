"""Geometry of zones and boxes: is an object in a zone, is it masked, how much do boxes overlap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from shapely.geometry import Point, Polygon, box
from shapely.prepared import prep

NormalisedPolygon = Sequence[tuple[float, float]]


def to_pixels(polygon: NormalisedPolygon, width: int, height: int) -> np.ndarray:
    """Normalised (0..1) polygon -> (N, 2) float pixel coordinates."""
    return np.asarray(polygon, dtype=np.float64) * np.array([width, height], dtype=np.float64)


def ground_point(xyxy: np.ndarray) -> tuple[float, float]:
    """Bottom centre of a box: where the object stands on the ground."""
    x1, _, x2, y2 = (float(v) for v in xyxy)
    return (x1 + x2) / 2.0, y2


@dataclass
class ZoneShape:
    """A zone polygon in pixels of one frame size, prepared for fast repeated tests."""

    polygon: Polygon
    min_overlap: float

    @classmethod
    def build(cls, normalised: NormalisedPolygon, width: int, height: int, min_overlap: float) -> ZoneShape:
        poly = Polygon(to_pixels(normalised, width, height))
        if not poly.is_valid:
            poly = poly.buffer(0)  # self-intersecting drawing: use its area as drawn
        return cls(polygon=poly, min_overlap=min_overlap)

    def __post_init__(self) -> None:
        self._prepared = prep(self.polygon)

    def contains(self, xyxy: np.ndarray) -> bool:
        """Ground point inside, or at least `min_overlap` of the box area inside."""
        if self._prepared.contains(Point(ground_point(xyxy))):
            return True
        b = box(*(float(v) for v in xyxy))
        if b.area <= 0:
            return False
        return self.polygon.intersection(b).area / b.area >= self.min_overlap


def masked(xyxy: np.ndarray, masks: list[Polygon]) -> bool:
    """An object whose ground point falls in a masked region is ignored."""
    point = Point(ground_point(xyxy))
    return any(mask.contains(point) for mask in masks)


def _overlaps(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairwise intersection areas of (N,4) and (M,4) xyxy boxes, and each side's areas, broadcast (N, M)."""
    a64 = np.asarray(a, dtype=np.float64).reshape(-1, 4)[:, None, :]
    b64 = np.asarray(b, dtype=np.float64).reshape(-1, 4)[None, :, :]
    ix = np.clip(np.minimum(a64[..., 2], b64[..., 2]) - np.maximum(a64[..., 0], b64[..., 0]), 0, None)
    iy = np.clip(np.minimum(a64[..., 3], b64[..., 3]) - np.maximum(a64[..., 1], b64[..., 1]), 0, None)
    area_a = (a64[..., 2] - a64[..., 0]) * (a64[..., 3] - a64[..., 1])
    area_b = (b64[..., 2] - b64[..., 0]) * (b64[..., 3] - b64[..., 1])
    return ix * iy, area_a, area_b


def iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise IoU of (N,4) and (M,4) xyxy boxes."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float64)
    inter, area_a, area_b = _overlaps(a, b)
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


def containment_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise intersection / area of the box in `a`: how much of a[i] lies inside b[j]."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float64)
    inter, area_a, _ = _overlaps(a, b)
    return np.where(area_a > 0, inter / np.maximum(area_a, 1e-9), 0.0)


def centre_distance_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Pairwise centre distance divided by the diagonal of the box in `a` (scale-free)."""
    if len(a) == 0 or len(b) == 0:
        return np.zeros((len(a), len(b)), dtype=np.float64)
    ca = (a[:, :2] + a[:, 2:]) / 2.0
    cb = (b[:, :2] + b[:, 2:]) / 2.0
    diag = np.hypot(a[:, 2] - a[:, 0], a[:, 3] - a[:, 1])[:, None]
    return np.linalg.norm(ca[:, None, :] - cb[None, :, :], axis=-1) / np.maximum(diag, 1e-9)
