"""Hazard lifecycle: the statuses, and which status changes are legal.

    open -> notified -> acknowledged -> rectified
    open/notified/acknowledged -> dismissed (false positive, with a reason) | cleared (left by itself)
    pending_review (a resident's report) -> open (accepted by the compound's property company or police)
                                          | rejected (with a reason)

An active hazard a property company disputed ("not an obstruction / please review") keeps its status and
waits, flagged, for the police's decision. A confirm or a dismissal can be undone by whoever did it, within
the undo window: a dismissal re-opens in the status it had (the one reversal of a closed status).

Pure rules; `service/store/hazard_writer.py` applies them and writes the history row each change leaves.
"""

from __future__ import annotations

from enum import StrEnum


class HazardStatus(StrEnum):
    pending_review = "pending_review"
    open = "open"
    notified = "notified"
    acknowledged = "acknowledged"
    rectified = "rectified"
    dismissed = "dismissed"
    cleared = "cleared"
    rejected = "rejected"


TRANSITIONS: dict[HazardStatus, frozenset[HazardStatus]] = {
    HazardStatus.pending_review: frozenset({HazardStatus.open, HazardStatus.rejected}),
    HazardStatus.open: frozenset(
        {
            HazardStatus.notified,
            HazardStatus.acknowledged,
            HazardStatus.rectified,
            HazardStatus.dismissed,
            HazardStatus.cleared,
        }
    ),
    HazardStatus.notified: frozenset(
        {HazardStatus.acknowledged, HazardStatus.rectified, HazardStatus.dismissed, HazardStatus.cleared}
    ),
    HazardStatus.acknowledged: frozenset({HazardStatus.rectified, HazardStatus.dismissed, HazardStatus.cleared}),
    HazardStatus.rectified: frozenset(),
    HazardStatus.dismissed: frozenset(),
    HazardStatus.cleared: frozenset(),
    HazardStatus.rejected: frozenset(),
}
ACTIVE: tuple[HazardStatus, ...] = (HazardStatus.open, HazardStatus.notified, HazardStatus.acknowledged)
CLOSED: tuple[HazardStatus, ...] = (
    HazardStatus.rectified,
    HazardStatus.dismissed,
    HazardStatus.cleared,
    HazardStatus.rejected,
)


UNDOABLE: tuple[str, ...] = ("confirmed", "dismissed")
"""History actions a person may take back within the undo window."""
REOPENABLE: dict[HazardStatus, tuple[HazardStatus, ...]] = {HazardStatus.dismissed: ACTIVE}
"""Closed statuses an undo may return from, and the statuses it may return to."""


class IllegalTransitionError(ValueError):
    """A status change the lifecycle does not allow (the API answers 409)."""


def check_transition(hazard_id: int, current: str, to_status: str) -> HazardStatus:
    """The target status if `current -> to_status` is legal; IllegalTransitionError otherwise."""
    if to_status not in HazardStatus.__members__:
        raise IllegalTransitionError(f"unknown status {to_status!r}")
    target = HazardStatus(to_status)
    if target not in TRANSITIONS[HazardStatus(current)]:
        raise IllegalTransitionError(f"hazard {hazard_id} is {current}; it cannot become {to_status}")
    return target


def check_undo(hazard_id: int, current: str, previous: str) -> HazardStatus:
    """The status an undo returns to: the same one, or a dismissal back to the active status it ended."""
    target = HazardStatus(previous)
    if current == previous or target in REOPENABLE.get(HazardStatus(current), ()):
        return target
    raise IllegalTransitionError(f"hazard {hazard_id} is {current}; an undo cannot make it {previous} again")
