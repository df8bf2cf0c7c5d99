"""Taking back a confirm or a dismissal: only by whoever did it, only within the undo window.

The judgement's history row carries what it changed (service/actions/snapshot.py); an undo puts exactly that
back, leaves an "undone" row saying what was undone and by whom (delivered like any change) and is audited.
Messages already sent are not recalled: the "undone" message follows them. An undone dismissal is active
again, so the escalation ladder (which reads the hazards' status) picks it up on its next round.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.actions.errors import Conflict, Forbidden, NotFound
from service.actions.hazards import load_visible
from service.actions.snapshot import restore
from service.actions.views import HazardDetail
from service.auth.audit import audit
from service.auth.keys import Principal
from service.store import models as m
from service.store.db import utcnow
from service.store.hazard_writer import HazardWriter
from service.store.lifecycle import UNDOABLE, IllegalTransitionError, check_undo
from service.store.watch_models import Fixture


@dataclass(frozen=True)
class UndoOffer:
    """What the caller could undo on a hazard right now, and for how long still (what the page shows)."""

    hazard_id: int
    action: str  # confirmed | dismissed
    left_s: float


def last_judgement(hazard: m.HazardEvent) -> m.HazardHistory | None:
    """The latest confirm or dismissal not undone yet (undos go back one judgement at a time), if it can be
    undone at all (older rows carry no snapshot)."""
    undone = {(e.params or {}).get("history_id") for e in hazard.history if e.action == "undone"}
    for entry in reversed(hazard.history):
        if entry.action in UNDOABLE and entry.id not in undone:
            return entry if isinstance((entry.params or {}).get("before"), dict) else None
    return None


def offer(hazard: m.HazardEvent, who: Principal, now: datetime, window_s: float) -> UndoOffer | None:
    """The undo this caller may still do on this hazard, or None."""
    entry = last_judgement(hazard)
    if entry is None or entry.actor != who.actor:
        return None
    left = window_s - (now - entry.at).total_seconds()
    return UndoOffer(hazard.id, entry.action, left) if left > 0 else None


def offers(
    session: Session, who: Principal, hazard_ids: Iterable[int | str | None], now: datetime, window_s: float
) -> dict[int, UndoOffer]:
    """Undo offers by hazard id for the visible hazards among `hazard_ids` (the page's own, the one just acted on)."""
    found: dict[int, UndoOffer] = {}
    for raw in {int(i) for i in hazard_ids if i is not None and str(i).isdigit()}:
        try:
            hazard = load_visible(session, who, raw)
        except NotFound:
            continue
        made = offer(hazard, who, now, window_s)
        if made is not None:
            found[raw] = made
    return found


def undo(
    session: Session,
    writer: HazardWriter,
    who: Principal,
    hazard_id: int,
    window_s: float,
    now: datetime | None = None,
) -> HazardDetail:
    """Undo the caller's latest confirm or dismissal of the hazard; commits it. NotFound (not visible),
    Conflict `nothing_to_undo` / `undo_expired`, Forbidden (someone else's judgement) say why not."""
    now = now or utcnow()
    if session.get_bind().dialect.name == "postgresql":  # two undos at once: the second one waits, then sees the first
        session.execute(select(m.HazardEvent.id).where(m.HazardEvent.id == hazard_id).with_for_update())
    hazard = load_visible(session, who, hazard_id)
    entry = last_judgement(hazard)
    if entry is None:
        raise Conflict(f"hazard {hazard_id} has no confirm or dismissal to undo", reason="nothing_to_undo")
    if entry.actor != who.actor:
        raise Forbidden(f"only {entry.actor} may undo their {entry.action} of hazard {hazard_id}")
    if now - entry.at > timedelta(seconds=window_s):
        raise Conflict(
            f"the {entry.action} of hazard {hazard_id} is older than the {window_s:g} s undo window",
            reason="undo_expired",
        )
    before = dict(entry.params["before"])
    current = hazard.status
    try:
        target = check_undo(hazard.id, current, before["status"]) if entry.action == "dismissed" else None
    except IllegalTransitionError as exc:
        raise Conflict(str(exc)) from None
    restore(hazard, before, entry.action)
    _end_fixture(session, entry, who, now)
    note = f"{entry.action} by {entry.actor} undone; messages already sent are not recalled"
    params = {"undone": entry.action, "history_id": entry.id, "by": entry.actor, "done_at": entry.at.isoformat()}
    from_status, to_status = (current, target.value) if target else (None, None)
    writer.record(session, hazard, "undone", who.actor, note, from_status, to_status, params)
    audit(session, who, "hazard.undo", "hazard", hazard.id, f"{entry.action} (history {entry.id})")
    session.flush()
    detail = HazardDetail.of(hazard)
    session.commit()
    return detail


def _end_fixture(session: Session, entry: m.HazardHistory, who: Principal, now: datetime) -> None:
    """A dismissal that marked a fixture (service/actions/fixtures.py) takes the mark back with it."""
    fixture_id = (entry.params or {}).get("fixture")
    row = session.get(Fixture, fixture_id) if isinstance(fixture_id, int) else None
    if row is not None and row.removed_at is None:
        row.removed_at, row.removed_by = now, who.actor
