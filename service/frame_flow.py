"""One frame on its way through the pipeline (`FrameWork`) and what it answers: `FrameResult` once processed,
`FrameQueued` once handed to the broker (roles ingest and worker)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from service.vision.decoding import decode_full
from service.vision.types import Frame


@dataclass
class FrameResult:
    frame_id: str
    camera_id: str
    captured_at: datetime
    late: bool = False
    duplicate: bool = False
    detections: list[dict] = field(default_factory=list)
    hazards: list[dict] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "frame_id": self.frame_id,
            "camera_id": self.camera_id,
            "captured_at": self.captured_at.isoformat(),
            "late": self.late,
            "duplicate": self.duplicate,
            "detections": self.detections,
            "hazards": self.hazards,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


@dataclass(frozen=True)
class FrameQueued:
    """A frame stored and acknowledged by the broker, for a worker to apply (roles ingest and worker)."""

    frame_id: str
    camera_id: str
    captured_at: datetime
    partition: int
    duplicate: bool  # the broker had it already (a client's or our own retry): stored once

    def to_json(self) -> dict:
        return {
            "frame_id": self.frame_id,
            "camera_id": self.camera_id,
            "captured_at": self.captured_at.isoformat(),
            "queued": True,
            "partition": self.partition,
            "duplicate": self.duplicate,
        }


@dataclass
class FrameWork:
    """One frame on its way through `_apply`: what it is, its bytes, and the stage timings so far."""

    frame: Frame
    frame_id: str
    sha256: str
    encoded: bytes
    timings: dict[str, float]
    _picture: np.ndarray | None = field(default=None, repr=False)

    def picture(self) -> np.ndarray:
        """The whole picture as received: the frame's image, or, when that was decoded smaller for the model,
        the bytes decoded in full, once (evidence and the second look need every pixel)."""
        if not self.frame.reduced:
            return self.frame.image
        if self._picture is None:
            with self.timed("full_decode"):
                self._picture = decode_full(self.encoded)
        return self._picture

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.timings[stage] = self.timings.get(stage, 0.0) + (time.perf_counter() - started) * 1000
