"""Dwell state machine: per-camera tracks over capture time -> hazard changes (opened, updated, cleared).

Pure logic over time: no HTTP, no SQL. The caller loads a `CameraState`, calls `observe` with one frame's
detections and saves the state again (in the same transaction as the hazards it produced), which is what
lets dwell survive a restart.

Rules (see README "Zones, dwell and hazards"):
- an object is in a zone when its ground point is inside or its box overlaps the zone by `min_overlap`;
- an object of a counted category that stays in a zone for the zone's dwell time (capture times, not frame
  counts) opens exactly one hazard for that object and zone;
- a track survives missed detections; it is gone, and its hazards cleared, once it has been missed in
  `clear_after_misses` consecutive frames spanning at least `clear_after_s` seconds;
- exit inertia: an object leaves a zone the same way it disappears. Seen outside the zone (a nudged camera, a
  box jittering across the edge) or not seen, in `clear_after_misses` frames spanning `clear_after_s` seconds
  since it was last inside, before its hazard there clears and its dwell there restarts; one frame outside does
  nothing;
- a zone disarmed by its arming schedule (site time, holidays) opens no hazard; its dwell keeps counting, so
  an object still there when the zone is armed again opens its hazard then;
- a frame older than (or as old as) the newest one already seen is late (a gateway's backlog, sent in any
  order): it is evidence of presence only. An object it shows inside a zone its track is still in moves that
  zone's start back (and the track's first sighting), which may complete the dwell: the hazard then opens at the
  newest time seen. A late frame never clears anything, creates no track, never opens a second hazard for an
  object (one per track and zone), and does not move the newest time;
- a detection that is a fixture a reviewer marked (service/hazards/fixtures.py) is in no zone and not tracked;
- an object entering an elevator zone is a lift entry (counted per lift and day) the moment it is first
  inside, whether or not it stays for the zone's dwell (seconds) and opens a hazard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

import numpy as np
from shapely.geometry import Polygon

from service.config.duties import ZoneType
from service.config.site import Camera
from service.hazards.fixtures import FIXTURE, FixtureMark, fixture_ids
from service.hazards.tracker import Track, match
from service.vision.geometry import ZoneShape, masked, to_pixels
from service.vision.types import ZONES, Detections


class ChangeKind(StrEnum):
    opened = "opened"
    updated = "updated"
    cleared = "cleared"
    earlier = "earlier"  # a late frame showed the object in the zone before its hazard's first sighting
    entered = "entered"  # an object came into an elevator zone (a lift entry; no hazard yet)


@dataclass(frozen=True)
class Tuning:
    track_iou: float = 0.3
    clear_after_s: float = 60.0
    clear_after_misses: int = 3


@dataclass
class CameraState:
    """Everything the engine remembers about one camera; JSON-serialisable."""

    tracks: list[Track] = field(default_factory=list)
    last_captured_at: datetime | None = None
    next_track: int = 1

    def to_json(self) -> dict:
        return {
            "tracks": [t.to_json() for t in self.tracks],
            "last_captured_at": self.last_captured_at.isoformat() if self.last_captured_at else None,
            "next_track": self.next_track,
        }

    @classmethod
    def from_json(cls, data: dict | None) -> CameraState:
        if not data:
            return cls()
        last = data.get("last_captured_at")
        return cls(
            tracks=[Track.from_json(t) for t in data.get("tracks", [])],
            last_captured_at=datetime.fromisoformat(last) if last else None,
            next_track=int(data.get("next_track", 1)),
        )


@dataclass(frozen=True)
class HazardChange:
    kind: ChangeKind
    key: str
    camera_id: str
    zone_id: str
    category: str
    class_name: str
    box: tuple[float, float, float, float]
    confidence: float
    first_seen_at: datetime
    at: datetime
    first_frame_id: str | None
    reason: str = ""  # why a hazard cleared: "gone" (not seen) or "left_zone" (seen outside)


@dataclass
class Observation:
    """What one frame did: the changes, and the detections with their track ids and zones (`data[ZONES]`)."""

    changes: list[HazardChange]
    detections: Detections
    late: bool
    any_in_zone: bool


class HazardEngine:
    """Zones and dwell for one camera. Rebuild it when the camera's config changes."""

    def __init__(self, camera: Camera, tuning: Tuning = Tuning()) -> None:
        self.camera = camera
        self.tuning = tuning
        self._shapes: dict[tuple[int, int], tuple[dict[str, ZoneShape], list[Polygon]]] = {}
        self._lifts = frozenset(z.id for z in camera.zones if z.type == ZoneType.elevator)

    def _geometry(self, width: int, height: int) -> tuple[dict[str, ZoneShape], list[Polygon]]:
        key = (width, height)
        if key not in self._shapes:
            zones = {z.id: ZoneShape.build(z.polygon, width, height, z.min_overlap) for z in self.camera.zones}
            masks = [Polygon(to_pixels(m, width, height)) for m in self.camera.masks]
            self._shapes[key] = (zones, masks)
        return self._shapes[key]

    def zones_for(self, detections: Detections, width: int, height: int) -> list[list[str]]:
        """Zone ids each detection counts in (category and class counted there, not masked, not a fixture)."""
        shapes, masks = self._geometry(width, height)
        fixtures = detections.data.get(FIXTURE)
        result: list[list[str]] = []
        for i in range(len(detections)):
            box, category, class_name = detections.xyxy[i], detections.category[i], detections.class_name[i]
            if category == "person" or masked(box, masks) or (fixtures is not None and fixtures[i] is not None):
                result.append([])
                continue
            result.append(
                [z.id for z in self.camera.zones if z.counts(category, class_name) and shapes[z.id].contains(box)]
            )
        return result

    def observe(
        self,
        state: CameraState,
        captured_at: datetime,
        detections: Detections,
        frame_id: str,
        width: int,
        height: int,
        fixtures: Sequence[FixtureMark] = (),
    ) -> Observation:
        detections.set_data(FIXTURE, fixture_ids(detections, fixtures, width, height, captured_at))
        zones_of = self.zones_for(detections, width, height)
        detections.set_data(ZONES, zones_of)
        index = self._trackable(detections, width, height)
        if state.last_captured_at is not None and captured_at <= state.last_captured_at:
            return self._late(state, captured_at, detections, zones_of, index, frame_id)
        state.last_captured_at = captured_at
        pairs = match(state.tracks, detections[index], self.tuning.track_iou)
        matched_tracks = {ti for ti, _ in pairs}
        track_ids = np.full(len(detections), -1, dtype=np.int64)
        changes: list[HazardChange] = []

        for ti, local_di in pairs:
            di = int(index[local_di])
            track = state.tracks[ti]
            self._refresh(track, detections, di, captured_at)
            track_ids[di] = _track_number(track)
            changes += self._update_zones(track, set(zones_of[di]), captured_at, frame_id)

        survivors: list[Track] = []
        for ti, track in enumerate(state.tracks):
            if ti in matched_tracks:
                survivors.append(track)
                continue
            track.misses += 1
            gone = (
                track.misses >= self.tuning.clear_after_misses
                and (captured_at - track.last_seen).total_seconds() >= self.tuning.clear_after_s
            )
            if gone:
                changes += [self._change(ChangeKind.cleared, track, z, captured_at, "gone") for z in track.open_hazards]
            else:
                changes += self._update_zones(track, set(), captured_at, frame_id)  # not seen counts as outside
                survivors.append(track)
        state.tracks = survivors

        matched_detections = {int(index[di]) for _, di in pairs}
        for di in index:
            if int(di) in matched_detections:
                continue
            track = Track(
                uid=f"{self.camera.id}-{state.next_track}",
                category=str(detections.category[di]),
                class_name=str(detections.class_name[di]),
                box=[float(v) for v in detections.xyxy[di]],
                confidence=float(detections.confidence[di]),
                first_seen=captured_at,
                last_seen=captured_at,
            )
            state.next_track += 1
            state.tracks.append(track)
            track_ids[di] = _track_number(track)
            changes += self._update_zones(track, set(zones_of[di]), captured_at, frame_id)

        detections.track_id = track_ids
        any_in_zone = any(
            t.last_seen == captured_at and any(t.zone_out_frames.get(z, 0) == 0 for z in t.zone_since)
            for t in state.tracks
        )
        return Observation(changes, detections, late=False, any_in_zone=any_in_zone)

    def _trackable(self, detections: Detections, width: int, height: int) -> np.ndarray:
        """Indices of the detections that may be tracked: not people, not under a mask, not fixtures."""
        masks = self._geometry(width, height)[1]
        fixtures = detections.data[FIXTURE]
        trackable = [
            i
            for i in range(len(detections))
            if detections.category[i] != "person" and not masked(detections.xyxy[i], masks) and fixtures[i] is None
        ]
        return np.asarray(trackable, dtype=np.int64)

    def _late(
        self,
        state: CameraState,
        captured_at: datetime,
        detections: Detections,
        zones_of: list[list[str]],
        index: np.ndarray,
        frame_id: str,
    ) -> Observation:
        """A frame older than the newest: evidence of presence only (the module's rules)."""
        pairs = match(state.tracks, detections[index], self.tuning.track_iou)
        track_ids = np.full(len(detections), -1, dtype=np.int64)
        changes: list[HazardChange] = []
        for ti, local_di in pairs:
            di, track = int(index[local_di]), state.tracks[ti]
            track_ids[di] = _track_number(track)
            track.first_seen = min(track.first_seen, captured_at)
            for zone_id in zones_of[di]:
                since = track.zone_since.get(zone_id)
                if since is not None and captured_at < since:
                    track.zone_since[zone_id] = captured_at
                    track.zone_first_frame[zone_id] = frame_id
                    if zone_id in track.open_hazards:
                        changes.append(self._change(ChangeKind.earlier, track, zone_id, track.last_seen))
            changes += self._open_due(track, set(zones_of[di]) & set(track.zone_since), track.last_seen)
        detections.track_id = track_ids
        any_in_zone = any(zones_of[int(index[di])] for _, di in pairs)
        return Observation(changes, detections, late=True, any_in_zone=any_in_zone)

    @staticmethod
    def _refresh(track: Track, detections: Detections, di: int, at: datetime) -> None:
        track.box = [float(v) for v in detections.xyxy[di]]
        track.confidence = float(detections.confidence[di])
        track.class_name = str(detections.class_name[di])
        track.last_seen = at
        track.misses = 0

    def _update_zones(self, track: Track, inside: set[str], at: datetime, frame_id: str) -> list[HazardChange]:
        """One frame of the track (`inside`: the zones it is in now; empty when it was not seen)."""
        changes: list[HazardChange] = []
        for zone_id in [z for z in track.zone_since if z not in inside]:
            track.zone_out_frames[zone_id] = track.zone_out_frames.get(zone_id, 0) + 1
            if self._has_left(track, zone_id, at):
                if zone_id in track.open_hazards:
                    changes.append(self._change(ChangeKind.cleared, track, zone_id, at, "left_zone"))
                    track.open_hazards.remove(zone_id)
                for by_zone in (track.zone_since, track.zone_first_frame, track.zone_last_in, track.zone_out_frames):
                    by_zone.pop(zone_id, None)
        for zone_id in inside:
            entering = zone_id in self._lifts and zone_id not in track.zone_since
            track.zone_since.setdefault(zone_id, at)
            track.zone_first_frame.setdefault(zone_id, frame_id)
            if entering:
                changes.append(self._change(ChangeKind.entered, track, zone_id, at))
            track.zone_last_in[zone_id] = at
            track.zone_out_frames[zone_id] = 0
            if zone_id in track.open_hazards:
                changes.append(self._change(ChangeKind.updated, track, zone_id, at))
        return changes + self._open_due(track, inside, at)

    def _has_left(self, track: Track, zone_id: str, at: datetime) -> bool:
        """Outside (or unseen) for enough frames over enough time since it was last inside: the exit inertia."""
        last_in = track.zone_last_in.get(zone_id, track.last_seen)
        return (
            track.zone_out_frames.get(zone_id, 0) >= self.tuning.clear_after_misses
            and (at - last_in).total_seconds() >= self.tuning.clear_after_s
        )

    def _open_due(self, track: Track, inside: set[str], at: datetime) -> list[HazardChange]:
        """Open a hazard in each zone of `inside` whose dwell the track has completed by `at` (once per zone)."""
        changes: list[HazardChange] = []
        for zone in self.camera.zones:
            if zone.id not in inside or zone.id in track.open_hazards or not self.camera.zone_armed(zone.id, at):
                continue  # a disarmed zone (its arming schedule) opens nothing; its dwell keeps counting
            if (at - track.zone_since[zone.id]).total_seconds() >= zone.effective_dwell_seconds:
                track.open_hazards.append(zone.id)
                changes.append(self._change(ChangeKind.opened, track, zone.id, at))
        return changes

    def _change(self, kind: ChangeKind, track: Track, zone_id: str, at: datetime, reason: str = "") -> HazardChange:
        return HazardChange(
            kind=kind,
            key=f"{track.uid}/{zone_id}",
            camera_id=self.camera.id,
            zone_id=zone_id,
            category=track.category,
            class_name=track.class_name,
            box=tuple(track.box),  # type: ignore[arg-type]
            confidence=track.confidence,
            first_seen_at=track.zone_since.get(zone_id, track.first_seen),
            at=at,
            first_frame_id=track.zone_first_frame.get(zone_id),
            reason=reason,
        )


def _track_number(track: Track) -> int:
    return int(track.uid.rsplit("-", 1)[1])
