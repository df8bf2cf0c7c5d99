"""What a confirm or a dismissal changed, kept with its history row so that an undo restores it exactly.

The values are stored in the row's `params` under "before" (JSON: times as ISO strings), written in the
same transaction as the judgement itself; nothing else is needed to take it back later.
"""

from __future__ import annotations

from datetime import datetime

from service.store import models as m

FIELDS = ("status", "confirmed", "severity", "dismiss_reason", "closed_at", "supervised", "disputed")
KEEPS_STATUS = ("status", "closed_at")
"""A confirm leaves the status alone: undoing it must not undo what happened to the status since."""


def snapshot(hazard: m.HazardEvent) -> dict:
    """The hazard's judged fields as they are now."""
    values = {name: getattr(hazard, name) for name in FIELDS}
    values["closed_at"] = hazard.closed_at.isoformat() if hazard.closed_at else None
    return values


def restore(hazard: m.HazardEvent, before: dict, action: str) -> None:
    """Put back what `action` ("confirmed" or "dismissed") changed, from its row's snapshot."""
    for name in FIELDS:
        if name not in before or (action == "confirmed" and name in KEEPS_STATUS):
            continue
        value = before[name]
        if name == "closed_at":
            value = datetime.fromisoformat(value) if value else None
        setattr(hazard, name, value)
