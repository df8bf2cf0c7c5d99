"""The hazard list query shared by the API and the review queue: filters, scope, keyset pages, counts.

Pages are keyset on id (`id < cursor` newest first, `id > cursor` oldest first), so page 2,000 costs the
same as page 1 at 100,000 hazards; `bench/review_queue.py` measures it. "Most urgent first" (`due`) is keyset
on (running deadline, id): the deadline a hazard is held to now (acknowledge until acknowledged, then rectify).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

import numpy as np
from sqlalchemy import ColumnElement, Select, and_, case, exists, func, literal, or_, select, text
from sqlalchemy.orm import Session

from service.store import models as m
from service.store.db import UTCDateTime
from service.store.delivery_models import HazardEscalation
from service.store.instants import LATEST
from service.store.lifecycle import ACTIVE, HazardStatus
from service.store.scope import Viewer, scope_hazards
from service.vision.geometry import iou_matrix

Order = Literal["newest", "oldest", "due"]
_Walk = Literal["newest", "oldest", "due", "due_back"]  # due_back: "due" walked backwards (previous page)
UNACKNOWLEDGED = (HazardStatus.open.value, HazardStatus.notified.value)


def running_due() -> ColumnElement:
    """The deadline a hazard is held to now; closed hazards sort last (the far future)."""
    due = case(
        (m.HazardEvent.status.in_(UNACKNOWLEDGED), m.HazardEvent.acknowledge_due_at),
        (m.HazardEvent.status.in_(ACTIVE), m.HazardEvent.rectify_due_at),
        else_=None,
    )
    return func.coalesce(due, literal(LATEST, UTCDateTime()))


def escalated() -> ColumnElement:
    return exists(select(HazardEscalation.id).where(HazardEscalation.hazard_id == m.HazardEvent.id))


@dataclass(frozen=True)
class HazardFilters:
    """The list filters; `status` also takes 'active' (open, notified or acknowledged)."""

    compound: str | None = None
    camera: str | None = None
    zone_type: str | None = None
    category: str | None = None
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    source: str | None = None
    kind: str | None = None
    severity: str | None = None
    overdue_at: datetime | None = None  # only hazards whose running deadline passed before this instant
    escalated: bool = False  # only hazards that climbed the escalation ladder
    disputed: bool = False  # only active hazards their answering unit disputed, awaiting the police

    def without_status(self) -> HazardFilters:
        return replace(self, status=None)

    def apply(self, query: Select) -> Select:
        for column, value in (
            (m.HazardEvent.compound_id, self.compound),
            (m.HazardEvent.camera_id, self.camera),
            (m.HazardEvent.zone_type, self.zone_type),
            (m.HazardEvent.category, self.category),
            (m.HazardEvent.source, self.source),
            (m.HazardEvent.kind, self.kind),
            (m.HazardEvent.severity, self.severity),
        ):
            if value:
                query = query.where(column == value)
        if self.status == "active":
            query = query.where(m.HazardEvent.status.in_(ACTIVE))
        elif self.status:
            query = query.where(m.HazardEvent.status == self.status)
        if self.since:
            query = query.where(m.HazardEvent.opened_at >= self.since)
        if self.until:
            query = query.where(m.HazardEvent.opened_at < self.until)
        if self.overdue_at:
            query = query.where(m.HazardEvent.status.in_(ACTIVE), running_due() < self.overdue_at)
        if self.escalated:
            query = query.where(escalated())
        if self.disputed:
            query = query.where(m.HazardEvent.disputed.is_(True), m.HazardEvent.status.in_(ACTIVE))
        return query


@dataclass
class HazardPage:
    items: list[m.HazardEvent] = field(default_factory=list)
    next_cursor: int | None = None


def _base(session: Session, who: Viewer, filters: HazardFilters) -> Select:
    return filters.apply(scope_hazards(select(m.HazardEvent), session, who))


def _walk(session: Session, query: Select, order: _Walk, cursor: int | None) -> Select:
    """Order `query` and start it after the hazard `cursor` (keyset: no OFFSET)."""
    hazard_id = m.HazardEvent.id
    if order in ("newest", "oldest"):
        if cursor is not None:
            query = query.where(hazard_id < cursor if order == "newest" else hazard_id > cursor)
        return query.order_by(hazard_id.desc() if order == "newest" else hazard_id.asc())
    due = running_due()
    forward = order == "due"
    if cursor is not None:
        at = session.scalar(select(due).where(hazard_id == cursor))
        if at is not None:
            after = due > at if forward else due < at
            query = query.where(or_(after, and_(due == at, hazard_id > cursor if forward else hazard_id < cursor)))
    return query.order_by(due.asc(), hazard_id.asc()) if forward else query.order_by(due.desc(), hazard_id.desc())


def hazard_page(
    session: Session,
    who: Viewer,
    filters: HazardFilters,
    order: _Walk = "newest",
    limit: int = 50,
    cursor: int | None = None,
) -> HazardPage:
    """One page of visible hazards after `cursor` in `order`; next_cursor is None on the last page."""
    query = _walk(session, _base(session, who, filters), order, cursor)
    rows = list(session.scalars(query.limit(limit + 1)))
    page = rows[:limit]
    _keep_sqlite_statistics(session)
    return HazardPage(page, page[-1].id if len(rows) > limit else None)


_STATISTICS_EVERY_S = 3600.0
_statistics_at: float | None = None


def _keep_sqlite_statistics(session: Session) -> None:
    """SQLite picks the id-ordered scan for a scoped keyset page only when it has table statistics (without
    them it sorts every hazard of the scope: 0.2 ms vs 200 ms at 100,000). PostgreSQL keeps its own through
    autovacuum; SQLite gets `PRAGMA optimize` (analyses only what changed) at most hourly, on the connection
    that just ran the query, as SQLite recommends."""
    global _statistics_at
    now = time.monotonic()
    if session.get_bind().dialect.name != "sqlite" or (
        _statistics_at is not None and now - _statistics_at < _STATISTICS_EVERY_S
    ):
        return
    _statistics_at = now
    session.execute(text("PRAGMA optimize"))


_REVERSE: dict[str, _Walk] = {"newest": "oldest", "oldest": "newest", "due": "due_back"}


def previous_page(
    session: Session, who: Viewer, filters: HazardFilters, order: Order, limit: int, before: int
) -> list[m.HazardEvent]:
    """The page just before the one starting at id `before` (walk the other way, then flip)."""
    return list(reversed(hazard_page(session, who, filters, _REVERSE[order], limit, before).items))


def neighbour(
    session: Session, who: Viewer, filters: HazardFilters, order: Order, hazard_id: int, step: Literal[1, -1]
) -> int | None:
    """The id after (step 1) or before (step -1) `hazard_id` in the queue, for next/previous navigation."""
    direction: _Walk = order if step == 1 else _REVERSE[order]
    page = hazard_page(session, who, filters, direction, 1, hazard_id)
    return page.items[0].id if page.items else None


def status_counts(session: Session, who: Viewer, filters: HazardFilters) -> dict[str, int]:
    """Hazards per status. Grouped by compound too, which lets the (compound, status) index answer it alone."""
    columns = (m.HazardEvent.compound_id, m.HazardEvent.status, func.count())
    query = _base(session, who, filters).with_only_columns(*columns).group_by(*columns[:2])
    counts: dict[str, int] = {}
    for _compound, status, count in session.execute(query).tuples():
        counts[status] = counts.get(status, 0) + count
    return counts


def count_active_hazards(session: Session) -> int:
    """Hazards not yet closed, everywhere (the `clearway_open_hazards` gauge)."""
    return session.scalar(select(func.count()).where(m.HazardEvent.status.in_(ACTIVE))) or 0


def box_in_frame(session: Session, hazard: m.HazardEvent, frame_id: str | None) -> list[float]:
    """The hazard object's box in one of its frames: the same-class detection overlapping its box most."""
    if frame_id is None:
        return list(hazard.box)
    candidates = session.scalars(
        select(m.DetectionRecord).where(
            m.DetectionRecord.frame_id == frame_id, m.DetectionRecord.class_name == hazard.class_name
        )
    ).all()
    boxes = np.asarray([[d.x1, d.y1, d.x2, d.y2] for d in candidates], dtype=np.float64).reshape(-1, 4)
    overlaps = iou_matrix(boxes, np.asarray([hazard.box], dtype=np.float64))[:, 0]
    if not len(overlaps) or overlaps.max() <= 0:
        return list(hazard.box)
    return [float(v) for v in boxes[int(np.argmax(overlaps))]]
