"""What people may do with hazards: see them (scoped), act on them by role, read their evidence."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.actions.errors import Conflict, Forbidden, Gone, Invalid, NotFound
from service.actions.snapshot import snapshot
from service.actions.views import HazardDetail
from service.auth.audit import audit
from service.auth.keys import Principal
from service.config.duties import ZoneType
from service.scene.scenes import StaticScenes
from service.store import models as m
from service.store.evidence import EvidenceStore, EvidenceTamperedError
from service.store.hazard_writer import HazardWriter
from service.store.lifecycle import ACTIVE, HazardStatus, IllegalTransitionError
from service.store.scope import scope_hazards

PENDING_OR_REJECTED = (HazardStatus.pending_review, HazardStatus.rejected)
READERS = ("property", "township", "police", "fire", "bureau", "county", "admin")
DISMISS_REASONS = ("false_positive", "not_an_obstruction", "authorised_vehicle", "duplicate", "other")
REJECT_REASONS = ("not_a_hazard", "duplicate", "wrong_compound", "not_enough_detail", "abusive", "other")
DISPUTE_REASONS = ("not_an_obstruction", "please_review")  # a property company's answer; please_review needs a note
UNAUDITED_KINDS = frozenset({"thumbnail"})  # a preview, not a view of the evidence: no audit row
REASONS = tuple(dict.fromkeys(DISMISS_REASONS + REJECT_REASONS + DISPUTE_REASONS))
Action = Literal["acknowledge", "rectify", "dismiss", "confirm", "note", "accept", "reject", "dispute", "release"]
ACTIONS: dict[str, tuple[HazardStatus | None, tuple[str, ...]]] = {
    "acknowledge": (HazardStatus.acknowledged, ("property", "township", "police", "bureau", "admin")),
    "rectify": (HazardStatus.rectified, ("property", "township", "police", "bureau", "admin")),
    "dismiss": (HazardStatus.dismissed, ("police", "admin")),
    "confirm": (None, ("police", "fire", "admin")),
    "note": (None, ("property", "township", "police", "bureau", "admin")),
    # A resident's report (pending_review) is moderated by its compound's property company or police station.
    "accept": (HazardStatus.open, ("property", "police", "admin")),
    "reject": (HazardStatus.rejected, ("property", "police", "admin")),
    # The answering unit's "not an obstruction / please review": flags the hazard for the police to decide.
    "dispute": (None, ("property", "township", "admin")),
    # A false alarm in a lift, released remotely by the property company: dismissed, and the controller told.
    "release": (HazardStatus.dismissed, ("property", "township", "admin")),
}
LIFT_RELEASE = "lift_release"  # the dismiss reason a release records


class HazardCommand(BaseModel):
    """What comes with an action: a note; a reason (dismiss, reject); a grade (confirm)."""

    note: str = Field(default="", max_length=2000)
    reason: Literal[REASONS] | None = Field(  # type: ignore[valid-type]
        default=None,
        description=f"dismiss: one of {DISMISS_REASONS}; reject: one of {REJECT_REASONS}; dispute: one of "
        f"{DISPUTE_REASONS} (please_review with a note)",
    )
    severity: Literal["minor", "major"] | None = Field(
        default=None, description="confirm only: grade the hazard (major goes up the escalation ladder)"
    )


def load_visible(session: Session, who: Principal, hazard_id: int) -> m.HazardEvent:
    """The hazard if the caller may see it; NotFound otherwise (no hint that it exists)."""
    query = scope_hazards(select(m.HazardEvent).where(m.HazardEvent.id == hazard_id), session, who)
    hazard = session.scalars(query).first()
    if hazard is None:
        raise NotFound(f"hazard {hazard_id} not found")
    return hazard


def available(hazard: m.HazardEvent, role: str) -> dict[str, bool]:
    """Which actions this role may take on the hazard in its current state (what a page offers)."""
    can = {action: role in roles for action, (_, roles) in ACTIONS.items()}
    return {
        "confirm": can["confirm"]
        and (not hazard.confirmed or hazard.disputed)  # a disputed hazard may be confirmed again
        and hazard.status not in (HazardStatus.dismissed, HazardStatus.cleared, *PENDING_OR_REJECTED),
        "dismiss": can["dismiss"] and hazard.status in ACTIVE,
        "acknowledge": can["acknowledge"] and hazard.status in (HazardStatus.open, HazardStatus.notified),
        "rectify": can["rectify"] and hazard.status in ACTIVE,
        "note": can["note"],
        "photo": can["rectify"] and hazard.status not in (HazardStatus.dismissed, *PENDING_OR_REJECTED),
        "accept": can["accept"] and hazard.status == HazardStatus.pending_review,
        "reject": can["reject"] and hazard.status == HazardStatus.pending_review,
        "dispute": can["dispute"] and hazard.status in ACTIVE and not hazard.disputed,
        "release": can["release"] and hazard.status in ACTIVE and hazard.zone_type == ZoneType.elevator.value,
    }


def act_on_hazard(
    session: Session,
    writer: HazardWriter,
    scenes: StaticScenes,
    who: Principal,
    hazard_id: int,
    action: Action,
    command: HazardCommand | None = None,
) -> HazardDetail:
    """One lifecycle action by role, written and audited; commits it. Forbidden, NotFound, Conflict (an
    illegal change), Invalid (a dismissal without a reason, an empty note) say why it was not done."""
    command = command or HazardCommand()
    to_status, roles = ACTIONS[action]
    if who.role not in roles:
        raise Forbidden(f"role {who.role!r} may not {action} hazards")
    hazard = load_visible(session, who, hazard_id)
    try:
        if action == "dismiss":
            if command.reason not in DISMISS_REASONS:
                raise Invalid(f"dismiss needs a reason, one of {DISMISS_REASONS}")
            note = f"{command.reason}: {command.note}".rstrip(": ")
            params = {"reason": command.reason, "text": command.note, "before": snapshot(hazard)}
            writer.transition(session, hazard, HazardStatus.dismissed, who.actor, note, params)
            hazard.disputed = False  # decided
        elif action == "accept":
            writer.accept(session, hazard, who.actor, command.note.strip())
        elif action == "reject":
            if command.reason not in REJECT_REASONS:
                raise Invalid(f"reject needs a reason, one of {REJECT_REASONS}")
            note = f"{command.reason}: {command.note}".rstrip(": ")
            params = {"reason": command.reason, "text": command.note}
            writer.transition(session, hazard, HazardStatus.rejected, who.actor, note, params)
            hazard.dismiss_reason = command.reason
        elif action == "note":
            if not command.note.strip():
                raise Invalid("a note needs some text")
            writer.record(session, hazard, "note", who.actor, command.note.strip())
        elif action == "dispute":
            _dispute(session, writer, who, hazard, command)
        elif action == "release":
            _release(session, writer, who, hazard, command)
        elif action == "confirm":
            before = snapshot(hazard)
            entry = writer.confirm(session, hazard, who.actor, command.severity, command.note)
            entry.params = (entry.params or {}) | {"before": before}  # what an undo puts back
            hazard.disputed = False  # decided
            if hazard.severity == "major" and who.role == "fire" and not hazard.supervised:
                # A major hazard confirmed by the fire brigade is listed for the county's supervision (挂牌督办).
                hazard.supervised = True
                note = "major hazard confirmed by the fire brigade"
                writer.record(session, hazard, "supervised", who.actor, note, params={})
        else:
            assert to_status is not None
            writer.transition(session, hazard, to_status, who.actor, command.note)
    except IllegalTransitionError as exc:
        raise Conflict(str(exc)) from None
    audit(session, who, f"hazard.{action}", "hazard", hazard.id, hazard.history[-1].note if hazard.history else "")
    session.flush()
    detail = HazardDetail.of(hazard)
    if action == "dismiss":
        # A reviewer judged the zone as it looks acceptable: learn it, so the same thing does not alarm again.
        # The dismissal is committed first: the scene model saves itself in a transaction of its own.
        session.commit()
        scenes.confirm_zone_clear(hazard.camera_id, hazard.zone_key)
    return detail


def _dispute(session: Session, writer: HazardWriter, who: Principal, hazard: m.HazardEvent, cmd: HazardCommand) -> None:
    """The answering unit says "not an obstruction" or "please review": the hazard stays as it is, flagged
    for the police's decision (dismiss or confirm); the history row is delivered to its recipients."""
    if cmd.reason not in DISPUTE_REASONS:
        raise Invalid(f"dispute needs a reason, one of {DISPUTE_REASONS}")
    if cmd.reason == "please_review" and not cmd.note.strip():
        raise Invalid("please_review needs a note saying what to look at")
    if hazard.status not in ACTIVE:
        raise Conflict(f"hazard {hazard.id} is {hazard.status}; only an active hazard can be disputed")
    if hazard.disputed:
        raise Conflict(f"hazard {hazard.id} is already awaiting the police's review")
    hazard.disputed = True
    note = f"{cmd.reason}: {cmd.note.strip()}".rstrip(": ")
    writer.record(session, hazard, "disputed", who.actor, note, params={"reason": cmd.reason, "text": cmd.note.strip()})


def _release(session: Session, writer: HazardWriter, who: Principal, hazard: m.HazardEvent, cmd: HazardCommand) -> None:
    """The property company says the lift alarm is false (a stroller, a wheelchair): the hazard is dismissed
    and, through the outbox, the lift's controller is told to release (service/delivery/lift_commands.py)."""
    if hazard.zone_type != ZoneType.elevator.value:
        raise Conflict(f"hazard {hazard.id} is not in a lift; only a lift alarm can be released")
    note = f"{LIFT_RELEASE}: {cmd.note.strip()}".rstrip(": ")
    params = {"reason": LIFT_RELEASE, "text": cmd.note.strip(), "before": snapshot(hazard)}
    writer.transition(session, hazard, HazardStatus.dismissed, who.actor, note, params)
    hazard.disputed = False


def read_evidence(
    session: Session, store: EvidenceStore, who: Principal, hazard_id: int, kind: str
) -> tuple[m.Evidence, bytes]:
    """One evidence file of a visible hazard, verified against its SHA-256. A view of the evidence itself is
    audited; a thumbnail is not (the queue shows dozens a page: rows for them would bury the real views)."""
    hazard = load_visible(session, who, hazard_id)
    item = next((e for e in hazard.evidence if e.kind == kind), None)
    if item is None:
        raise NotFound(f"hazard {hazard_id} has no {kind!r} evidence")
    if kind not in UNAUDITED_KINDS:
        audit(session, who, "evidence.view", "hazard", hazard_id, kind)
    return item, read_verified(store, item.path, item.sha256, "evidence file")


def read_verified(store: EvidenceStore, path: str, sha256: str, what: str) -> bytes:
    """The stored bytes if they still match their hash: Gone when missing, Conflict when altered."""
    try:
        return store.read_verified(path, sha256)
    except FileNotFoundError:
        raise Gone(f"{what} is missing from storage") from None
    except EvidenceTamperedError as exc:
        raise Conflict(str(exc), reason="tampered") from None
