"""Every number of a campaign report, computed from the hazards' facts: one module, so no page, PDF, sheet or
message types a figure of its own.

Definitions (docs/reports.md says the same in words):
- found: opened in the period; rectified: closed as rectified or cleared in the period, on time if by its
  deadline; open and overdue: as at the period's end; escalated: first escalated in the period.
- rectification rate: rectified by the period's end / found by then, over the whole campaign so far.
- median time to rectify: of the hazards rectified in the period, in hours.
- the units table counts by responsible unit; units with overdue hazards are the ones to be named (通报).
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime

from pydantic import BaseModel

from service.reports.facts import HazardFact
from service.reports.periods import Period

SUPERVISED_LIMIT = 50  # the list in the report; the count is always complete


class Line(BaseModel):
    """One row of the compounds or units table."""

    id: str
    name: str
    found: int  # in the period
    rectified: int  # in the period
    open: int  # at the end
    overdue: int  # at the end
    rate: float | None  # campaign to date


class TrendPoint(BaseModel):
    label: str
    found: int
    rectified: int
    open: int
    overdue: int
    rate: float | None


class Supervised(BaseModel):
    number: int
    compound: str
    kind: str
    opened_at: datetime
    deadline: datetime | None
    responsible: str
    status: str


class Figures(BaseModel):
    """One report's figures; stored with the report as JSON, so the page shows exactly what was sent."""

    kind: str  # weekly | final
    period: str  # 2026-W49 | final
    unit_id: str  # an agency id, or "county"
    unit_name: str
    campaign: str
    starts_at: datetime
    ends_at: datetime
    found: int
    found_by_kind: dict[str, int]
    found_by_source: dict[str, int]
    rectified: int
    rectified_on_time: int
    open: int
    overdue: int
    escalated: int
    found_to_date: int
    rectified_to_date: int
    rate: float | None
    median_hours_to_rectify: float | None
    supervised_open: int
    supervised: list[Supervised]
    compounds: list[Line]
    units: list[Line]
    overdue_units: list[Line]
    trend: list[TrendPoint]
    phases: list[TrendPoint]  # the final summary's figures per phase (empty for a week)


Names = dict[str, str]  # id -> what people read, for compounds and agencies


def compute(
    facts: list[HazardFact],
    period: Period,
    history: list[Period],
    unit: tuple[str, str],
    campaign: str,
    compounds: Names,
    agencies: Names,
    phases: Iterable[tuple[str, datetime, datetime]] = (),
) -> Figures:
    """The figures of `period` for `unit` (id, name); `history` are the weeks for the trend, in order."""
    start, end = period.starts_at, period.ends_at
    found = [f for f in facts if f.found_in(start, end)]
    rectified = [f for f in facts if f.rectified_in(start, end)]
    hours = [(f.rectified_at - f.opened_at).total_seconds() / 3600 for f in rectified if f.rectified_at]
    supervised = sorted((f for f in facts if f.supervised and f.open_at(end)), key=lambda f: f.opened_at)
    to_date = [f for f in facts if f.opened_at < end]
    rectified_to_date = sum(1 for f in to_date if f.rectified_at is not None and f.rectified_at < end)
    units = _lines(facts, start, end, lambda f: f.responsible, agencies)
    return Figures(
        kind=period.kind,
        period=period.label,
        unit_id=unit[0],
        unit_name=unit[1],
        campaign=campaign,
        starts_at=start,
        ends_at=end,
        found=len(found),
        found_by_kind=_ranked(f.kind for f in found),
        found_by_source=_ranked(f.source for f in found),
        rectified=len(rectified),
        rectified_on_time=sum(1 for f in rectified if f.on_time),
        open=sum(1 for f in facts if f.open_at(end)),
        overdue=sum(1 for f in facts if f.overdue_at(end)),
        escalated=sum(1 for f in facts if f.escalated_at is not None and start <= f.escalated_at < end),
        found_to_date=len(to_date),
        rectified_to_date=rectified_to_date,
        rate=_rate(rectified_to_date, len(to_date)),
        median_hours_to_rectify=round(statistics.median(hours), 1) if hours else None,
        supervised_open=len(supervised),
        supervised=[
            Supervised(
                number=f.id,
                compound=compounds.get(f.compound_id, f.compound_id),
                kind=f.kind,
                opened_at=f.opened_at,
                deadline=f.rectify_due_at,
                responsible=agencies.get(f.responsible, f.responsible),
                status=f.status,
            )
            for f in supervised[:SUPERVISED_LIMIT]
        ],
        compounds=_lines(facts, start, end, lambda f: f.compound_id, compounds),
        units=units,
        overdue_units=sorted((u for u in units if u.overdue), key=lambda u: (-u.overdue, u.name)),
        trend=[_point(facts, p.label, p.starts_at, p.ends_at) for p in history if p.ends_at <= end],
        phases=[_point(facts, label, a, b) for label, a, b in phases],
    )


def _rate(done: int, total: int) -> float | None:
    return round(done / total, 4) if total else None


def _ranked(values: Iterable[str]) -> dict[str, int]:
    return dict(sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0])))


def _point(facts: list[HazardFact], label: str, start: datetime, end: datetime) -> TrendPoint:
    to_date = sum(1 for f in facts if f.opened_at < end)
    done = sum(1 for f in facts if f.rectified_at is not None and f.rectified_at < end)
    return TrendPoint(
        label=label,
        found=sum(1 for f in facts if f.found_in(start, end)),
        rectified=sum(1 for f in facts if f.rectified_in(start, end)),
        open=sum(1 for f in facts if f.open_at(end)),
        overdue=sum(1 for f in facts if f.overdue_at(end)),
        rate=_rate(done, to_date),
    )


def _lines(
    facts: list[HazardFact],
    start: datetime,
    end: datetime,
    key: Callable[[HazardFact], str],
    names: Names,
) -> list[Line]:
    """One row per compound (or unit) with any hazard found by the end, in the order of names, then by id."""
    groups: dict[str, list[HazardFact]] = {}
    for fact in facts:
        if fact.opened_at < end:
            groups.setdefault(key(fact), []).append(fact)
    order = {name_id: index for index, name_id in enumerate(names)}
    lines = []
    for group_id in sorted(groups, key=lambda g: (order.get(g, len(order)), g)):
        group = groups[group_id]
        done = sum(1 for f in group if f.rectified_at is not None and f.rectified_at < end)
        lines.append(
            Line(
                id=group_id,
                name=names.get(group_id, group_id),  # "" for hazards with no responsible unit named
                found=sum(1 for f in group if f.found_in(start, end)),
                rectified=sum(1 for f in group if f.rectified_in(start, end)),
                open=sum(1 for f in group if f.open_at(end)),
                overdue=sum(1 for f in group if f.overdue_at(end)),
                rate=_rate(done, len(group)),
            )
        )
    return lines
