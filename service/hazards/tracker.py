"""Match objects across sparse frames (seconds to minutes apart) so a parked car keeps one identity.

Frames are too far apart for motion models (ByteTrack and friends assume video rates), but a parked
object barely moves: greedy matching on IoU, then on centre distance, within the same category, is
enough and easy to reason about. A track survives a few missed detections (occlusion by a passer-by).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

import numpy as np

from service.vision.geometry import centre_distance_matrix, iou_matrix
from service.vision.types import Detections


@dataclass
class Track:
    """One physical object seen in one or more frames of one camera."""

    uid: str
    category: str
    class_name: str
    box: list[float]
    confidence: float
    first_seen: datetime
    last_seen: datetime
    misses: int = 0
    zone_since: dict[str, datetime] = field(default_factory=dict)
    zone_first_frame: dict[str, str] = field(default_factory=dict)
    open_hazards: list[str] = field(default_factory=list)
    zone_last_in: dict[str, datetime] = field(default_factory=dict)  # last frame the object was inside the zone
    zone_out_frames: dict[str, int] = field(default_factory=dict)  # frames since then (seen outside or not seen)

    def to_json(self) -> dict:
        data = asdict(self)
        data["first_seen"] = self.first_seen.isoformat()
        data["last_seen"] = self.last_seen.isoformat()
        for name in _TIMES_BY_ZONE:
            data[name] = {k: v.isoformat() for k, v in getattr(self, name).items()}
        return data

    @classmethod
    def from_json(cls, data: dict) -> Track:
        """A saved track; one saved before exit inertia existed was last inside when it was last seen."""
        data = dict(data)
        data["first_seen"] = datetime.fromisoformat(data["first_seen"])
        data["last_seen"] = datetime.fromisoformat(data["last_seen"])
        data.setdefault("zone_last_in", {z: data["last_seen"].isoformat() for z in data.get("zone_since", {})})
        for name in _TIMES_BY_ZONE:
            data[name] = {k: datetime.fromisoformat(v) for k, v in data.get(name, {}).items()}
        return cls(**data)


_TIMES_BY_ZONE = ("zone_since", "zone_last_in")


def match(
    tracks: list[Track], detections: Detections, min_iou: float, max_centre_distance: float = 0.5
) -> list[tuple[int, int]]:
    """Greedy one-to-one (track index, detection index) pairs, best IoU first, then nearest centre."""
    if not tracks or not len(detections):
        return []
    track_boxes = np.array([t.box for t in tracks], dtype=np.float64)
    same_category = np.array([[t.category == c for c in detections.category] for t in tracks], dtype=bool)
    iou = np.where(same_category, iou_matrix(track_boxes, detections.xyxy), 0.0)
    dist = np.where(same_category, centre_distance_matrix(track_boxes, detections.xyxy), np.inf)
    pairs: list[tuple[int, int]] = []
    used_t: set[int] = set()
    used_d: set[int] = set()
    for score, ok in ((iou, lambda v: v >= min_iou), (-dist, lambda v: -v <= max_centre_distance)):
        order = np.dstack(np.unravel_index(np.argsort(-score, axis=None), score.shape))[0]
        for ti, di in order:
            if ti in used_t or di in used_d or not ok(score[ti, di]):
                continue
            pairs.append((int(ti), int(di)))
            used_t.add(int(ti))
            used_d.add(int(di))
    return pairs
