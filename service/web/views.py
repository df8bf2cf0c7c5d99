"""Turning request parameters into queries and rows into what the templates show.

The queue's filters travel in the query string from the queue to each hazard page, so next/previous on a
hazard page walk the same queue the reviewer was looking at.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config.duties import HazardKind, HazardSource
from service.config.site import Site
from service.store import models as m
from service.store.db import utcnow
from service.store.delivery_models import Delivery, HazardEscalation
from service.store.instants import bounded
from service.store.lifecycle import ACTIVE, HazardStatus
from service.store.queries import HazardFilters

STATUSES = tuple(status.value for status in HazardStatus)
KINDS = tuple(kind.value for kind in HazardKind)
SOURCES = tuple(source.value for source in HazardSource)
FILTER_KEYS = (
    "compound",
    "camera",
    "zone_type",
    "category",
    "kind",
    "source",
    "severity",
    "attention",
    "status",
    "from",
    "to",
    "order",
)
SEVERITIES = ("minor", "major", "critical")
ATTENTION = ("overdue", "escalated", "disputed")  # what needs someone's attention first
ORDERS = ("newest", "oldest", "due")


@dataclass(frozen=True)
class QueueState:
    """The queue as a reviewer set it up: filters, order, and the raw values to put back in the form."""

    filters: HazardFilters
    order: Literal["newest", "oldest", "due"]
    values: dict[str, str]

    def query(self, **extra: object) -> str:
        params = {k: v for k, v in self.values.items() if v} | {k: str(v) for k, v in extra.items() if v is not None}
        return urlencode(params)


def _day(value: str | None, zone: ZoneInfo) -> datetime | None:
    """A day of the filter form, in site time; dropped when unreadable or outside what the store holds."""
    try:
        return bounded(datetime.combine(date.fromisoformat(value), time()), zone) if value else None
    except ValueError:
        return None


def queue_state(params: dict[str, str], zone: ZoneInfo, now: datetime | None = None) -> QueueState:
    """Parse the queue's query parameters; unknown values are dropped rather than failing the page."""
    values = {k: params.get(k, "").strip()[:64] for k in FILTER_KEYS}
    if "status" not in params:
        values["status"] = "active"  # reviewers start with what still needs doing
    status = values["status"]
    if status not in (*STATUSES, "active", "all"):
        status = values["status"] = "active"
    order: Literal["newest", "oldest", "due"] = values["order"] if values["order"] in ORDERS else "newest"  # type: ignore[assignment]
    values["order"] = order
    attention = values["attention"] if values["attention"] in ATTENTION else ""
    since, until = _day(values["from"], zone), _day(values["to"], zone)
    filters = HazardFilters(
        compound=values["compound"] or None,
        camera=values["camera"] or None,
        zone_type=values["zone_type"] or None,
        category=values["category"] or None,
        kind=values["kind"] if values["kind"] in KINDS else None,
        source=values["source"] if values["source"] in SOURCES else None,
        status=None if status == "all" else status,
        since=since,
        until=until + timedelta(days=1) if until else None,
        severity=values["severity"] if values["severity"] in SEVERITIES else None,
        overdue_at=(now or utcnow()) if attention == "overdue" else None,
        escalated=attention == "escalated",
        disputed=attention == "disputed",
    )
    return QueueState(filters, order, values)


def zone_of(site: Site, camera_id: str, zone_key: str) -> object | None:
    camera = site.camera(camera_id)
    return camera.zone(zone_key) if camera else None


def names(site: Site) -> dict[str, dict[str, str]]:
    """Display names of compounds, cameras, agencies and zones (keyed camera/zone)."""
    return {
        "compound": {c.id: c.name for c in site.compounds},
        "camera": {c.id: c.name or c.id for c in site.cameras},
        "agency": {a.id: a.name for a in site.agencies},
        "zone": {f"{c.id}/{z.id}": z.name or z.id for c in site.cameras for z in c.zones},
    }


def thumbnails(session: Session, hazard_ids: list[int]) -> set[int]:
    if not hazard_ids:
        return set()
    query = select(m.Evidence.hazard_id).where(m.Evidence.hazard_id.in_(hazard_ids), m.Evidence.kind == "thumbnail")
    return set(session.scalars(query))


def deadline(hazard: m.HazardEvent, now: datetime) -> dict | None:
    """The deadline a still-active hazard is held to (acknowledge first, then rectify) and how far it is."""
    if hazard.status not in ACTIVE:
        return None
    stage, due = (
        ("acknowledge", hazard.acknowledge_due_at)
        if hazard.status in (HazardStatus.open, HazardStatus.notified)
        else ("rectify", hazard.rectify_due_at)
    )
    if due is None:
        return None
    return {"stage": stage, "due": due, "left_s": abs((due - now).total_seconds()), "overdue": due < now}


def duration_s(hazard: m.HazardEvent) -> float:
    """How long the object has been seen (first to last sighting)."""
    end = hazard.closed_at or hazard.last_seen_at
    return max(0.0, (end - hazard.first_seen_at).total_seconds())


def open_for_s(hazard: m.HazardEvent, now: datetime) -> float:
    """How long the hazard has been open: what a duty officer measures against its deadline."""
    return max(0.0, ((hazard.closed_at or now) - hazard.opened_at).total_seconds())


def escalated_to(session: Session, hazard_ids: list[int]) -> dict[int, dict]:
    """Per hazard, its highest escalation step and the agencies it reached."""
    if not hazard_ids:
        return {}
    rows = session.scalars(
        select(HazardEscalation).where(HazardEscalation.hazard_id.in_(hazard_ids)).order_by(HazardEscalation.level)
    )
    return {row.hazard_id: {"level": row.level, "agencies": list(row.agency_ids)} for row in rows}


def deliveries(session: Session, hazard_id: int) -> dict[str, list[dict]]:
    """Delivery rows per recipient agency from the delivery outbox."""
    out: dict[str, list[dict]] = {}
    rows = session.scalars(select(Delivery).where(Delivery.hazard_id == hazard_id).order_by(Delivery.id))
    for row in rows:
        out.setdefault(row.agency_id, []).append(
            {
                "event": row.event,
                "channel": row.channel,
                "status": row.status,
                "attempts": row.attempts,
                "delivered_at": row.delivered_at,
                "error": row.last_error or "",
            }
        )
    return out
