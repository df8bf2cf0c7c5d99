"""An engine's `HazardChange` written as a hazard: what opening, seeing again and clearing mean for a camera.

Why apart from the pipeline: the pipeline wires stages; this decides what a camera hazard carries when it
opens (its kind from zone and category, its grade from the fire lane's clear width, the evidence pictures,
recipients, answering unit and deadlines from the division of duties, the opening note) and hands it to the
one `HazardWriter`, which writes rows, files and history.
"""

from __future__ import annotations

from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config.duties import ZoneType, camera_kind
from service.config.site import Camera, Zone
from service.config.site_holder import SiteHolder
from service.frame_flow import FrameWork
from service.hazards.engine import ChangeKind, HazardChange
from service.hazards.routing import assign
from service.locale import translator
from service.metrics import Metrics
from service.store import models as m
from service.store.hazard_writer import Grade, HazardWriter, NewHazard, find_by_keys
from service.store.lifecycle import HazardStatus
from service.store.watch_models import LiftEntry
from service.vision.clear_width import ClearWidthResult, LaneWidths, severity_for
from service.vision.evidence import HazardFacts, hazard_pictures
from service.vision.labels import evidence_language
from service.vision.second_look import Look, SecondLook, second_look


class CameraHazards:
    def __init__(
        self,
        writer: HazardWriter,
        sites: SiteHolder,
        metrics: Metrics,
        look: Look | None = None,
        second_look_min: float = 0.0,
    ) -> None:
        self.writer, self.sites, self.metrics = writer, sites, metrics
        self.look, self.second_look_min = look, second_look_min  # look None: no second look

    def write_all(
        self, session: Session, camera: Camera, changes: list[HazardChange], work: FrameWork, widths: LaneWidths
    ) -> list[dict]:
        """A frame's engine changes through the hazard writer (their hazards looked up in one query); the
        summaries the frame's answer lists."""
        known = find_by_keys(session, (c.key for c in changes if c.kind != ChangeKind.entered))
        return [self._write(session, camera, change, known.get(change.key), work, widths) for change in changes]

    def _write(
        self,
        session: Session,
        camera: Camera,
        change: HazardChange,
        hazard: m.HazardEvent | None,
        work: FrameWork,
        widths: LaneWidths,
    ) -> dict:
        """One engine change; `hazard` is the one its key names, if any."""
        self.metrics.hazard_changes.labels(kind=change.kind).inc()
        zone = camera.zone(change.zone_id)
        assert zone is not None  # the engine only places objects in the camera's own zones
        if change.kind == ChangeKind.entered:
            return self._lift_entry(session, camera, change, work)
        width = widths.get(zone) if change.kind in (ChangeKind.opened, ChangeKind.updated) else None
        grade = None if width is None else _grade(width, camera)
        if change.kind == ChangeKind.opened and hazard is None:
            dwell_s = (change.at - change.first_seen_at).total_seconds()
            pictures = partial(self._pictures, camera, zone, change, work, width)  # drawn once it has its number
            kind = camera_kind(zone.type.value, change.category)
            looked = self._second_look(work, change)
            new = NewHazard(
                engine_key=change.key,
                kind=kind,
                camera_id=camera.id,
                compound_id=camera.compound,
                zone_key=zone.id,
                zone_type=zone.type.value,
                category=change.category,
                class_name=change.class_name,
                confidence=change.confidence,
                box=list(change.box),
                first_seen_at=change.first_seen_at,
                opened_at=change.at,
                first_frame_id=kept_frame(session, change.first_frame_id),
                latest_frame_id=work.frame_id,
                status=HazardStatus.pending_review.value if looked.holds(self.second_look_min) else "open",
            )
            site = self.sites.current()
            assignment = assign(site, camera.compound, kind, change.at, zone.type.value, change.category)
            note = f"{change.class_name.replace('_', ' ')} in {zone.id} for {dwell_s:.0f} s"
            note += f"; {grade.note()}" if grade is not None else ""
            params = {"object": change.class_name, "category": change.category, "zone": zone.id, "dwell_s": dwell_s}
            params |= (grade.params() if grade is not None else {}) | looked.params()
            hazard = self.writer.open(session, new, assignment, note, pictures, grade, params)
            if zone.type == ZoneType.elevator:  # the lift entry that stayed past the dwell
                entry = session.scalars(select(LiftEntry).where(LiftEntry.engine_key == change.key)).first()
                if entry is not None:
                    entry.hazard_id = hazard.id
        elif hazard is not None and change.kind == ChangeKind.updated:
            self.writer.seen_again(session, hazard, change.at, change.box, change.confidence, work.frame_id, grade)
        elif hazard is not None and change.kind == ChangeKind.earlier:
            self.writer.seen_earlier(session, hazard, change.first_seen_at, kept_frame(session, change.first_frame_id))
        elif hazard is not None and change.kind == ChangeKind.cleared:
            note = "object gone" if change.reason == "gone" else "object left the zone"
            self.writer.clear(session, hazard, note, work.frame_id, work.frame.captured_at, change.reason)
        if hazard is None:
            return {"change": change.kind, "key": change.key, "hazard_id": None}
        return {
            "change": change.kind,
            "hazard_id": hazard.id,
            "status": hazard.status,
            "zone": zone.id,
            "zone_type": zone.type.value,
            "category": change.category,
            "severity": hazard.severity,
            "clear_width_m": hazard.clear_width_m,
        }

    def _lift_entry(self, session: Session, camera: Camera, change: HazardChange, work: FrameWork) -> dict:
        """One object entering a lift: counted per lift and site day (docs/lifts.md)."""
        day = change.at.astimezone(self.sites.current().zone).date().isoformat()
        session.add(
            LiftEntry(
                engine_key=change.key,
                camera_id=camera.id,
                zone_key=change.zone_id,
                compound_id=camera.compound,
                category=change.category,
                class_name=change.class_name,
                entered_at=change.at,
                day=day,
                frame_id=work.frame_id,
            )
        )
        self.metrics.lift_entries.labels(camera=camera.id, zone=change.zone_id).inc()
        return {"change": change.kind, "key": change.key, "hazard_id": None, "zone": change.zone_id}

    def _second_look(self, work: FrameWork, change: HazardChange) -> SecondLook:
        if self.look is None:
            return SecondLook(None)
        with work.timed("second_look"):
            looked = second_look(work.picture(), change.box, change.category, change.class_name, self.look)
        outcome = "none" if looked.score is None else "held" if looked.holds(self.second_look_min) else "confirmed"
        self.metrics.second_looks.labels(outcome=outcome).inc()
        return looked

    def _pictures(
        self,
        camera: Camera,
        zone: Zone,
        change: HazardChange,
        work: FrameWork,
        width: ClearWidthResult | None,
        opened: m.HazardEvent,
    ) -> dict[str, bytes]:
        """The frame as received and the evidence picture, whose caption shows the hazard's number."""
        dwell_s = (change.at - change.first_seen_at).total_seconds()
        facts = HazardFacts(
            opened.id,
            zone,
            change.box,
            change.category,
            change.class_name,
            change.confidence,
            dwell_s,
            work.frame.captured_at,
        )
        site = self.sites.current()
        with work.timed("evidence"):
            drawn = hazard_pictures(work.picture(), facts, site, camera, translator(evidence_language(site)), width)
        return {"original": work.encoded} | drawn


def _grade(width: ClearWidthResult, camera: Camera) -> Grade:
    minimum = camera.min_clear_width_m
    return Grade(width.width_m, severity_for(width.width_m, minimum), minimum)


def kept_frame(session: Session, frame_id: str | None) -> str | None:
    """The track's first frame if it is still stored: retention may have removed it while the object stood
    there unremarked (a short frame retention, a long dwell); the hazard keeps its first-seen time either way."""
    if frame_id is None or session.get(m.FrameRecord, frame_id) is None:
        return None
    return frame_id
