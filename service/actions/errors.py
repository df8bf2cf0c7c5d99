"""Domain errors: why an action was not done, in words for people and a code for machines."""

from __future__ import annotations


class ActionError(Exception):
    """Base: `reason` is a stable code (e.g. "not_found"), the message says what happened."""

    reason = "action_refused"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if reason is not None:
            self.reason = reason


class NotFound(ActionError):
    """Absent, or outside the caller's scope (the same answer, so ids cannot be probed)."""

    reason = "not_found"


class Forbidden(ActionError):
    """The caller's role may not do this."""

    reason = "forbidden"


class Conflict(ActionError):
    """Not possible in the object's current state (an illegal status change, nothing to learn yet...)."""

    reason = "conflict"


class Invalid(ActionError):
    """The request itself is incomplete or wrong (a dismissal without a reason, an empty note...)."""

    reason = "invalid"


class Gone(ActionError):
    """The object exists but its file is no longer in storage."""

    reason = "gone"


class TooLarge(ActionError):
    """An upload over the size or pixel limit."""

    reason = "too_large"


class Unavailable(ActionError):
    """Not possible just now (the model's queue is full, inference timed out): try again shortly."""

    reason = "unavailable"
