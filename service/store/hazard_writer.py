"""The one hazard writer: every hazard row, recipient, evidence file and history entry is written here.

Camera hazards (the pipeline), offline cameras, people's actions (acknowledge, dismiss, confirm, notes, after
photos), delivery's own "notified" and escalations all go through a `HazardWriter`, inside the caller's
transaction. Each history row is handed to the writer's `sink` (the delivery outbox in the running service)
in that same transaction, so a change is never committed without its messages, nor a message without its
change. A writer without a sink (CLI tools, tests of the store) writes history and sends nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store import models as m
from service.store.db import utcnow
from service.store.evidence import EvidenceStore, media_type_of, suffix_of
from service.store.lifecycle import ACTIVE, CLOSED, HazardStatus, IllegalTransitionError, check_transition

if TYPE_CHECKING:
    from service.hazards.routing import Assignment


class HistorySink(Protocol):
    """Hears every history row, inside the transaction that adds it (the outbox turns it into deliveries)."""

    def history_added(self, session: Session, hazard: m.HazardEvent, entry: m.HazardHistory) -> None: ...


@dataclass(frozen=True)
class Grade:
    """A measured fire-lane clear width and the severity it gives."""

    clear_width_m: float
    severity: str
    minimum_m: float

    def note(self) -> str:
        return f"clear width {self.clear_width_m:.2f} m (minimum {self.minimum_m:.1f} m)"

    def params(self) -> dict:
        return {"clear_width_m": round(self.clear_width_m, 2), "minimum_m": self.minimum_m}


@dataclass(frozen=True)
class NewHazard:
    """What opening a hazard needs, whatever found it (a camera, an inspector, a resident)."""

    engine_key: str
    kind: str
    camera_id: str | None
    compound_id: str
    zone_key: str
    zone_type: str
    category: str
    class_name: str
    first_seen_at: datetime
    opened_at: datetime
    source: str = "camera"
    found_by: str = "system"  # who recorded it: an inspector's actor name, "resident", or the system (cameras)
    status: str = "open"  # a resident's report waits in pending_review until the compound accepts it
    location: str = ""
    description: str = ""
    confidence: float = 1.0
    box: list[float] = field(default_factory=list)
    first_frame_id: str | None = None
    latest_frame_id: str | None = None


class HazardWriter:
    def __init__(self, evidence: EvidenceStore, sink: HistorySink | None = None) -> None:
        self.evidence = evidence
        self.sink = sink

    # --- history ---------------------------------------------------------------------------------------
    def record(
        self,
        session: Session,
        hazard: m.HazardEvent,
        action: str,
        actor: str,
        note: str = "",
        from_status: str | None = None,
        to_status: str | None = None,
        params: dict | None = None,
        captured_at: datetime | None = None,
    ) -> m.HazardHistory:
        """One history row, handed to the sink in this transaction. `note` is what a person wrote (or the
        machine's English, for logs and old rows); `params` are the values the pages render in the reader's
        language (service/web/history.py); `captured_at` is the frame's capture time when the event is about one."""
        entry = m.HazardHistory(
            hazard=hazard,
            action=action,
            actor=actor,
            note=note,
            from_status=from_status,
            to_status=to_status,
            params=params,
            captured_at=captured_at,
        )
        session.add(entry)
        session.flush()
        if self.sink is not None:
            self.sink.history_added(session, hazard, entry)
        return entry

    def transition(
        self,
        session: Session,
        hazard: m.HazardEvent,
        to_status: str,
        actor: str,
        note: str = "",
        params: dict | None = None,
        captured_at: datetime | None = None,
    ) -> m.HazardHistory:
        """Move a hazard to `to_status` or raise IllegalTransitionError, recording who did it."""
        target = check_transition(hazard.id, hazard.status, to_status)
        from_status = hazard.status
        hazard.status = target.value  # plain strings in the database, whatever the driver does with enums
        if target in CLOSED:
            hazard.closed_at = utcnow()
        if target == HazardStatus.dismissed:
            hazard.dismiss_reason = note
        return self.record(session, hazard, target.value, actor, note, from_status, target.value, params, captured_at)

    # --- opening, seeing again, clearing ------------------------------------------------------------------
    def open(
        self,
        session: Session,
        new: NewHazard,
        assignment: Assignment,
        note: str,
        pictures: dict[str, bytes] | Callable[[m.HazardEvent], dict[str, bytes]] | None = None,
        grade: Grade | None = None,
        params: dict | None = None,
    ) -> m.HazardEvent:
        """The hazard row with its grade, answering unit and deadlines; recipients, evidence files
        (kind -> bytes) and the "opened" entry (`params` describe it for the pages; a camera's carries the
        capture time of the frame that opened it)."""
        hazard = m.HazardEvent(
            engine_key=new.engine_key,
            kind=new.kind,
            source=new.source,
            location=new.location,
            description=new.description,
            status=new.status,
            responsible_agency_id=assignment.responsible_agency_id,
            acknowledge_due_at=assignment.acknowledge_due_at,
            rectify_due_at=assignment.rectify_due_at,
            camera_id=new.camera_id,
            compound_id=new.compound_id,
            zone_key=new.zone_key,
            zone_type=new.zone_type,
            category=new.category,
            class_name=new.class_name,
            confidence=new.confidence,
            box=list(new.box),
            first_seen_at=new.first_seen_at,
            opened_at=new.opened_at,
            last_seen_at=new.opened_at,
            first_frame_id=new.first_frame_id,
            latest_frame_id=new.latest_frame_id,
        )
        self._grade(hazard, grade)
        session.add(hazard)
        session.flush()
        if callable(pictures):  # drawn now that the hazard has its number (the evidence caption shows it)
            pictures = pictures(hazard)
        for kind, data in (pictures or {}).items():
            self.add_evidence(session, hazard, kind, data, frame_id=new.latest_frame_id)
        for recipient in assignment.recipients:
            session.add(
                m.HazardRecipient(
                    hazard_id=hazard.id,
                    agency_id=recipient.agency_id,
                    agency_kind=recipient.agency_kind,
                    reason=recipient.reason,
                )
            )
        session.flush()
        if new.status == HazardStatus.pending_review:
            # Not announced yet: only an accepted report (or a camera hazard the second look did not confirm,
            # "suspected") becomes an "opened" hazard that is delivered.
            action = "suspected" if new.source == "camera" else "reported"
            captured = new.opened_at if new.source == "camera" else None
            self.record(session, hazard, action, new.found_by, note, None, new.status, params, captured)
        else:
            captured = new.opened_at if new.source == "camera" else None
            self.record(session, hazard, "opened", new.found_by, note, None, new.status, params, captured)
        return hazard

    def accept(self, session: Session, hazard: m.HazardEvent, actor: str, note: str = "") -> m.HazardHistory:
        """A reviewed report becomes a hazard like any other: "opened" now, delivered and escalated from here."""
        check_transition(hazard.id, hazard.status, HazardStatus.open)
        hazard.status = HazardStatus.open.value
        return self.record(session, hazard, "opened", actor, note, HazardStatus.pending_review.value, hazard.status)

    def seen_again(
        self,
        session: Session,
        hazard: m.HazardEvent,
        at: datetime,
        box: Iterable[float],
        confidence: float,
        frame_id: str,
        grade: Grade | None = None,
    ) -> None:
        """The object is still there; a narrower lane upgrades an unconfirmed hazard (and says so)."""
        hazard.last_seen_at = at
        hazard.box = list(box)
        hazard.confidence = confidence
        hazard.latest_frame_id = frame_id
        before = hazard.severity
        self._grade(hazard, grade)
        if grade is not None and hazard.severity != before:
            note = f"{before} -> {hazard.severity}: {grade.note()}"
            params = {"from": before, "to": hazard.severity} | grade.params()
            self.record(session, hazard, "severity", "system", note, params=params, captured_at=at)

    @staticmethod
    def seen_earlier(session: Session, hazard: m.HazardEvent, first_seen_at: datetime, frame_id: str | None) -> None:
        """A late frame (a gateway's backlog) showed the object there before the first sighting: move it back.
        Its deadlines stay as assigned: they count from when the hazard opened."""
        if first_seen_at < hazard.first_seen_at:
            hazard.first_seen_at = first_seen_at
            hazard.first_frame_id = frame_id or hazard.first_frame_id

    def clear(
        self,
        session: Session,
        hazard: m.HazardEvent,
        reason: str,
        frame_id: str | None = None,
        captured_at: datetime | None = None,
        why: str = "",
    ) -> None:
        """The object left by itself. `frame_id` shows the zone clear ("verified by camera"); a hazard already
        rectified keeps its status and gains that proof. `why` is the reason's code for the pages."""
        if frame_id is not None:
            hazard.cleared_frame_id = frame_id
        if hazard.status in ACTIVE:
            params = {"why": why} if why else None
            self.transition(session, hazard, HazardStatus.cleared, "system", reason, params, captured_at)

    @staticmethod
    def _grade(hazard: m.HazardEvent, grade: Grade | None) -> None:
        """Clear width below the minimum makes the hazard major. A reviewer's confirmed grade is kept."""
        if grade is None:
            return
        hazard.clear_width_m = round(grade.clear_width_m, 3)
        if not hazard.confirmed:
            hazard.severity = grade.severity

    # --- people's judgements -------------------------------------------------------------------------------
    def confirm(
        self, session: Session, hazard: m.HazardEvent, actor: str, severity: str | None = None, note: str = ""
    ) -> m.HazardHistory:
        """A reviewer marks a true positive, optionally grading it (major climbs the escalation ladder)."""
        if hazard.status in (HazardStatus.dismissed, HazardStatus.cleared):
            raise IllegalTransitionError(f"hazard {hazard.id} is {hazard.status}; it cannot be confirmed")
        hazard.confirmed = True
        if severity is not None:
            hazard.severity = severity
        return self.record(
            session,
            hazard,
            "confirmed",
            actor,
            f"severity {hazard.severity}" + (f": {note}" if note else ""),
            params={"severity": hazard.severity, "text": note},
        )

    # --- evidence --------------------------------------------------------------------------------------
    def add_evidence(
        self, session: Session, hazard: m.HazardEvent, kind: str, data: bytes, frame_id: str | None = None
    ) -> m.Evidence:
        """Save the bytes under the hazard (written once, atomically) and keep their SHA-256."""
        path = f"hazards/{hazard.id}/{kind}.{suffix_of(data)}"
        stored = self.evidence.save(path, data)
        row = m.Evidence(
            hazard_id=hazard.id,
            kind=kind,
            frame_id=frame_id,
            path=stored.relative_path,
            media_type=media_type_of(data),
            sha256=stored.sha256,
            size_bytes=stored.size_bytes,
        )
        session.add(row)
        return row

    def add_after_photo(self, session: Session, hazard: m.HazardEvent, data: bytes, actor: str) -> str:
        """A rectification photo as the hazard's next `after-n` evidence (never overwriting a file)."""
        query = select(func.count()).where(m.Evidence.hazard_id == hazard.id, m.Evidence.kind.startswith("after-"))
        number = 1 + (session.scalar(query) or 0)  # counted in the database: photos added in this session too
        kind = f"after-{number}"
        stored = self.evidence.save(f"hazards/{hazard.id}/{kind}-{secrets.token_hex(4)}.{suffix_of(data)}", data)
        session.add(
            m.Evidence(
                hazard_id=hazard.id,
                kind=kind,
                path=stored.relative_path,
                media_type=media_type_of(data),
                sha256=stored.sha256,
                size_bytes=stored.size_bytes,
            )
        )
        self.record(session, hazard, "after_photo", actor, kind, params={"photo": kind})
        return kind


def find_by_keys(session: Session, engine_keys: Iterable[str]) -> dict[str, m.HazardEvent]:
    """The hazards a frame's changes name, in one query; without flushing what the frame has added so far
    (its rows do not change the answer, and a flush per change costs more than the query)."""
    keys = set(engine_keys)
    if not keys:
        return {}
    with session.no_autoflush:
        rows = session.scalars(select(m.HazardEvent).where(m.HazardEvent.engine_key.in_(keys)))
        return {row.engine_key: row for row in rows}
