"""The few facts per hazard that every campaign figure is computed from, read from the store in one query.

Why separate from the figures: the figures are pure arithmetic over these facts (tested with hand-made ones),
and this is the only place that knows how the store records them. A hazard's rectification is its closing in
`rectified` (the unit reported it fixed) or `cleared` (the camera saw the obstruction gone); a `dismissed` or
`rejected` hazard was a false alarm and is left out of every figure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store import models as m
from service.store.delivery_models import HazardEscalation
from service.store.lifecycle import HazardStatus
from service.store.scope import Viewer, scope_hazards

RECTIFIED = (HazardStatus.rectified.value, HazardStatus.cleared.value)
FALSE_ALARMS = (HazardStatus.dismissed.value, HazardStatus.rejected.value)


@dataclass(frozen=True, slots=True)
class HazardFact:
    id: int
    compound_id: str
    kind: str
    source: str
    status: str
    severity: str
    supervised: bool
    responsible: str  # agency id, "" when none was named
    opened_at: datetime
    rectified_at: datetime | None
    rectify_due_at: datetime | None
    escalated_at: datetime | None  # the first escalation

    def found_in(self, start: datetime, end: datetime) -> bool:
        return start <= self.opened_at < end

    def rectified_in(self, start: datetime, end: datetime) -> bool:
        return self.rectified_at is not None and start <= self.rectified_at < end

    def open_at(self, moment: datetime) -> bool:
        """Found before `moment` and not rectified by then."""
        return self.opened_at < moment and (self.rectified_at is None or self.rectified_at >= moment)

    def overdue_at(self, moment: datetime) -> bool:
        return self.open_at(moment) and self.rectify_due_at is not None and self.rectify_due_at < moment

    @property
    def on_time(self) -> bool:
        """Rectified by its deadline (a hazard with no deadline cannot be late)."""
        if self.rectified_at is None:
            return False
        return self.rectify_due_at is None or self.rectified_at <= self.rectify_due_at


def load_facts(session: Session, who: Viewer, until: datetime) -> list[HazardFact]:
    """The facts of every hazard `who` may see that was found before `until` (false alarms left out)."""
    first_escalation = (
        select(HazardEscalation.hazard_id, func.min(HazardEscalation.escalated_at).label("at"))
        .group_by(HazardEscalation.hazard_id)
        .subquery()
    )
    h = m.HazardEvent
    query = (
        select(
            h.id,
            h.compound_id,
            h.kind,
            h.source,
            h.status,
            h.severity,
            h.supervised,
            h.responsible_agency_id,
            h.opened_at,
            h.closed_at,
            h.rectify_due_at,
            first_escalation.c.at,
        )
        .outerjoin(first_escalation, first_escalation.c.hazard_id == h.id)
        .where(h.opened_at < until, h.status.not_in(FALSE_ALARMS))
        .order_by(h.id)
    )
    facts = []
    for row in session.execute(scope_hazards(query, session, who)):
        (hid, compound, kind, source, status, severity, supervised, agency, opened, closed, due, escalated) = row
        facts.append(
            HazardFact(
                id=hid,
                compound_id=compound,
                kind=kind,
                source=source,
                status=status,
                severity=severity,
                supervised=bool(supervised),
                responsible=agency or "",
                opened_at=_aware(opened),
                rectified_at=_aware(closed) if status in RECTIFIED else None,
                rectify_due_at=_aware(due),
                escalated_at=_aware(escalated),
            )
        )
    return facts


def _aware(value: datetime | None) -> datetime | None:
    """Column reads through a select of columns keep the UTC type; an aggregate (min) comes back naive."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)
