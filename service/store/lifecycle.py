"""Hazard lifecycle: the legal status transitions, and the history row every change leaves behind.

    open -> notified -> acknowledged -> rectified
    open/notified/acknowledged -> dismissed (false positive, with a reason) | cleared (left by itself)

Listeners registered with `on_history` run inside the same transaction as the change: that is how the
delivery outbox gets its rows committed atomically with the hazard change that caused them.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from service.store.db import utcnow
from service.store.models import HazardEvent, HazardHistory

TRANSITIONS: dict[str, set[str]] = {
    "open": {"notified", "acknowledged", "rectified", "dismissed", "cleared"},
    "notified": {"acknowledged", "rectified", "dismissed", "cleared"},
    "acknowledged": {"rectified", "dismissed", "cleared"},
    "rectified": set(),
    "dismissed": set(),
    "cleared": set(),
}
ACTIVE = ("open", "notified", "acknowledged")
CLOSED = ("rectified", "dismissed", "cleared")

HistoryListener = Callable[[Session, HazardEvent, HazardHistory], None]
_listeners: list[HistoryListener] = []


class IllegalTransitionError(ValueError):
    """A status change the lifecycle does not allow (the API answers 409)."""


def on_history(listener: HistoryListener) -> HistoryListener:
    """Register a function called for every history row, inside the transaction that adds it."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


def record(
    session: Session,
    hazard: HazardEvent,
    action: str,
    actor: str,
    note: str = "",
    from_status: str | None = None,
    to_status: str | None = None,
) -> HazardHistory:
    entry = HazardHistory(
        hazard=hazard, action=action, actor=actor, note=note, from_status=from_status, to_status=to_status
    )
    session.add(entry)
    session.flush()
    for listener in list(_listeners):
        listener(session, hazard, entry)
    return entry


def transition(session: Session, hazard: HazardEvent, to_status: str, actor: str, note: str = "") -> HazardHistory:
    """Move a hazard to `to_status` or raise IllegalTransitionError, recording who did it."""
    if to_status not in TRANSITIONS:
        raise IllegalTransitionError(f"unknown status {to_status!r}")
    if to_status not in TRANSITIONS[hazard.status]:
        raise IllegalTransitionError(f"hazard {hazard.id} is {hazard.status}; it cannot become {to_status}")
    from_status = hazard.status
    hazard.status = to_status
    if to_status in CLOSED:
        hazard.closed_at = utcnow()
    if to_status == "dismissed":
        hazard.dismiss_reason = note
    return record(session, hazard, to_status, actor, note, from_status, to_status)
