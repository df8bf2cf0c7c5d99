"""What processing one frame answers: its id, whether it was late or a duplicate, detections, hazard changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


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
