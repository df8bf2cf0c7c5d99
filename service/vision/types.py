"""The two types every stage speaks: a `Frame` in, `Detections` out.

Frames are validated once, at the edge (HTTP upload or RTSP reader), and trusted downstream.
Detections is one typed, column-oriented container so no stage passes raw model output around.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

CATEGORIES = ("vehicle", "two_wheeler", "clutter", "person")
"""Hazard categories. `person` is counted but never an obstruction."""


@dataclass(frozen=True)
class Frame:
    """One still image from one camera at one moment.

    `captured_at` is timezone-aware UTC; `image` is a BGR uint8 array (H, W, 3).
    `encoded` keeps the bytes as received (JPEG/PNG) so evidence can be stored unaltered.
    `hint` is what the device itself said it saw (a Hikvision or Dahua event): stored and shown, never trusted.
    `size` is the picture's own (width, height) when `image` was decoded smaller, at the size the model needs
    (service/vision/decoding.py); `width`, `height` and every box downstream of the model are in its pixels.
    """

    camera_id: str
    captured_at: datetime
    image: np.ndarray
    source: str = "push"
    encoded: bytes | None = None
    hint: dict | None = None
    size: tuple[int, int] | None = None

    @property
    def width(self) -> int:
        return self.size[0] if self.size is not None else int(self.image.shape[1])

    @property
    def height(self) -> int:
        return self.size[1] if self.size is not None else int(self.image.shape[0])

    @property
    def reduced(self) -> bool:
        return self.width != int(self.image.shape[1]) or self.height != int(self.image.shape[0])

    @property
    def upscale(self) -> tuple[float, float]:
        """Picture pixels per `image` pixel, across and down (1, 1 unless decoded smaller)."""
        return self.width / int(self.image.shape[1]), self.height / int(self.image.shape[0])


def _column(values: object, dtype: object, n: int) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    if array.shape[0] != n:
        raise ValueError(f"column has {array.shape[0]} rows, expected {n}")
    return array


@dataclass
class Detections:
    """Boxes found in one frame, one row per object.

    xyxy is in pixels of the frame. `category` is the hazard category from the class map;
    `origin` says who found the object ("model" for the detector, "static" for the
    background model). `track_id` is filled by the tracker (-1 before tracking).
    `data` holds further per-row columns that travel with their rows through selection and merging, the
    way supervision's `Detections.data` does: the engine puts each row's zone ids under `ZONES`.
    """

    xyxy: np.ndarray
    confidence: np.ndarray
    class_name: np.ndarray
    category: np.ndarray
    origin: np.ndarray = field(default=None)  # type: ignore[assignment]
    track_id: np.ndarray = field(default=None)  # type: ignore[assignment]
    data: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n = int(np.asarray(self.xyxy).reshape(-1, 4).shape[0])
        self.xyxy = np.asarray(self.xyxy, dtype=np.float32).reshape(n, 4)
        self.confidence = _column(self.confidence, np.float32, n)
        self.class_name = _column(self.class_name, object, n)
        self.category = _column(self.category, object, n)
        self.origin = _column(["model"] * n if self.origin is None else self.origin, object, n)
        self.track_id = _column([-1] * n if self.track_id is None else self.track_id, np.int64, n)
        self.data = {name: _object_column(values, n) for name, values in self.data.items()}

    @classmethod
    def empty(cls) -> Detections:
        return cls(xyxy=np.zeros((0, 4)), confidence=[], class_name=[], category=[])

    def __len__(self) -> int:
        return int(self.xyxy.shape[0])

    def __getitem__(self, index: np.ndarray | slice | list[int]) -> Detections:
        """Row selection with a boolean mask, index array or slice (extra columns come along)."""
        return Detections(
            xyxy=self.xyxy[index],
            confidence=self.confidence[index],
            class_name=self.class_name[index],
            category=self.category[index],
            origin=self.origin[index],
            track_id=self.track_id[index],
            data={name: values[index] for name, values in self.data.items()},
        )

    def scaled(self, across: float, down: float) -> Detections:
        """The same rows with boxes in another image's pixels (a reduced decode's boxes in the picture's)."""
        if (across, down) == (1.0, 1.0) or not len(self):
            return self
        factor = np.array([across, down, across, down], dtype=np.float32)
        return Detections(
            xyxy=(self.xyxy * factor).astype(np.float32),
            confidence=self.confidence,
            class_name=self.class_name,
            category=self.category,
            origin=self.origin,
            track_id=self.track_id,
            data=dict(self.data),
        )

    def set_data(self, name: str, values: object) -> None:
        """Add or replace an extra per-row column (one value per row, any Python object)."""
        self.data[name] = _object_column(values, len(self))

    @property
    def zones(self) -> list[list[str]]:
        """Zone ids each row counts in, as the engine placed it (empty lists before the engine ran)."""
        column = self.data.get(ZONES)
        if column is None:
            return [[] for _ in range(len(self))]
        return [list(z) if z is not None else [] for z in column]

    @classmethod
    def merge(cls, parts: list[Detections]) -> Detections:
        """Rows of all parts in order; an extra column missing from some part is filled with None there."""
        parts = [p for p in parts if len(p)]
        if not parts:
            return cls.empty()
        names = [name for part in parts for name in part.data]
        return cls(
            xyxy=np.concatenate([p.xyxy for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            class_name=np.concatenate([p.class_name for p in parts]),
            category=np.concatenate([p.category for p in parts]),
            origin=np.concatenate([p.origin for p in parts]),
            track_id=np.concatenate([p.track_id for p in parts]),
            data={
                name: np.concatenate([p.data.get(name, _object_column([None] * len(p), len(p))) for p in parts])
                for name in dict.fromkeys(names)
            },
        )

    def to_records(self) -> list[dict]:
        """JSON-friendly rows, used by the API and the CLI (with their zones once the engine placed them)."""
        records = [
            {
                "class_name": str(self.class_name[i]),
                "category": str(self.category[i]),
                "confidence": round(float(self.confidence[i]), 4),
                "box": [round(float(v), 1) for v in self.xyxy[i]],
                "origin": str(self.origin[i]),
                "track_id": int(self.track_id[i]),
            }
            for i in range(len(self))
        ]
        if ZONES in self.data:
            for record, zones in zip(records, self.zones, strict=True):
                record["zones"] = zones
        for record, fixture in zip(records, self.data.get(FIXTURE, ()), strict=False):
            if fixture is not None:
                record["fixture"] = int(fixture)  # a marked fixture: ignored, and said so
        return records


ZONES = "zones"
"""The `Detections.data` column with the zone ids each row counts in."""
FIXTURE = "fixture"
"""The `Detections.data` column with the id of the fixture mark each row is (None: not a fixture)."""


def _object_column(values: object, n: int) -> np.ndarray:
    """A column of arbitrary Python values (lists included), one per row."""
    if isinstance(values, np.ndarray) and values.dtype == object and values.shape == (n,):
        return values
    column = np.empty(n, dtype=object)
    items = list(values)  # type: ignore[call-overload]
    if len(items) != n:
        raise ValueError(f"column has {len(items)} rows, expected {n}")
    for i, value in enumerate(items):
        column[i] = value
    return column
