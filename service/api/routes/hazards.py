"""Hazard events: list, read, evidence download, and the lifecycle actions, all scoped to the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.api.deps import Services, principal, require, services
from service.auth.keys import Principal
from service.auth.scope import scope_hazards
from service.store import models as m
from service.store.evidence import EvidenceTamperedError
from service.store.lifecycle import IllegalTransitionError, record, transition

router = APIRouter(prefix="/api/v1/hazards", tags=["hazards"])
READERS = ("property", "police", "county", "admin")
DISMISS_REASONS = ("false_positive", "not_an_obstruction", "authorised_vehicle", "duplicate", "other")


def hazard_summary(h: m.HazardEvent) -> dict:
    return {
        "id": h.id,
        "status": h.status,
        "severity": h.severity,
        "confirmed": h.confirmed,
        "kind": h.kind,
        "camera_id": h.camera_id,
        "compound_id": h.compound_id,
        "zone": h.zone_key,
        "zone_type": h.zone_type,
        "category": h.category,
        "class_name": h.class_name,
        "confidence": round(h.confidence, 4),
        "box": h.box,
        "first_seen_at": h.first_seen_at.isoformat(),
        "opened_at": h.opened_at.isoformat(),
        "last_seen_at": h.last_seen_at.isoformat(),
        "closed_at": h.closed_at.isoformat() if h.closed_at else None,
        "clear_width_m": h.clear_width_m,
        "dismiss_reason": h.dismiss_reason,
    }


def hazard_detail(h: m.HazardEvent) -> dict:
    return hazard_summary(h) | {
        "first_frame_id": h.first_frame_id,
        "latest_frame_id": h.latest_frame_id,
        "evidence": [
            {
                "kind": e.kind,
                "sha256": e.sha256,
                "size_bytes": e.size_bytes,
                "media_type": e.media_type,
                "url": f"/api/v1/hazards/{h.id}/evidence/{e.kind}",
            }
            for e in h.evidence
        ],
        "recipients": [
            {"agency_id": r.agency_id, "agency_kind": r.agency_kind, "reason": r.reason} for r in h.recipients
        ],
        "history": [
            {
                "at": e.at.isoformat(),
                "actor": e.actor,
                "action": e.action,
                "from": e.from_status,
                "to": e.to_status,
                "note": e.note,
            }
            for e in h.history
        ],
    }


def load_visible(session: Session, who: Principal, hazard_id: int) -> m.HazardEvent:
    """The hazard if the caller may see it; 404 otherwise (no hint that it exists)."""
    query = scope_hazards(select(m.HazardEvent).where(m.HazardEvent.id == hazard_id), session, who)
    hazard = session.scalars(query).first()
    if hazard is None:
        raise HTTPException(404, f"hazard {hazard_id} not found")
    return hazard


@router.get("")
def list_hazards(
    compound: str | None = None,
    camera: str | None = None,
    zone_type: str | None = None,
    category: str | None = None,
    status: str | None = None,
    since: datetime | None = Query(None, description="opened at or after (ISO 8601)"),
    until: datetime | None = Query(None, description="opened before (ISO 8601)"),
    order: Literal["newest", "oldest"] = "newest",
    limit: int = Query(50, ge=1, le=500),
    cursor: int | None = Query(None, description="next_cursor from the previous page"),
    who: Principal = Depends(require(*READERS)),
    svc: Services = Depends(services),
) -> dict:
    """Keyset pagination on id: constant cost per page however many hazards there are."""
    with svc.db.session() as session:
        query = scope_hazards(select(m.HazardEvent), session, who)
        for column, value in (
            (m.HazardEvent.compound_id, compound),
            (m.HazardEvent.camera_id, camera),
            (m.HazardEvent.zone_type, zone_type),
            (m.HazardEvent.category, category),
            (m.HazardEvent.status, status),
        ):
            if value:
                query = query.where(column == value)
        if since:
            query = query.where(m.HazardEvent.opened_at >= since)
        if until:
            query = query.where(m.HazardEvent.opened_at < until)
        counts_query = query.with_only_columns(m.HazardEvent.status, func.count()).group_by(m.HazardEvent.status)
        counts = dict(session.execute(counts_query).tuples().all())
        if cursor is not None:
            query = query.where(m.HazardEvent.id < cursor if order == "newest" else m.HazardEvent.id > cursor)
        query = query.order_by(m.HazardEvent.id.desc() if order == "newest" else m.HazardEvent.id.asc())
        rows = list(session.scalars(query.limit(limit + 1)))
        page = rows[:limit]
        return {
            "items": [hazard_summary(h) for h in page],
            "next_cursor": page[-1].id if len(rows) > limit else None,
            "counts": counts,
        }


@router.get("/{hazard_id}")
def get_hazard(hazard_id: int, who: Principal = Depends(require(*READERS)), svc: Services = Depends(services)) -> dict:
    with svc.db.session() as session:
        return hazard_detail(load_visible(session, who, hazard_id))


@router.get("/{hazard_id}/evidence/{kind}")
def get_evidence(
    hazard_id: int, kind: str, who: Principal = Depends(require(*READERS)), svc: Services = Depends(services)
) -> Response:
    """The evidence file, verified against its stored SHA-256 (sent as X-Content-SHA256); never cached."""
    with svc.db.session() as session:
        hazard = load_visible(session, who, hazard_id)
        item = next((e for e in hazard.evidence if e.kind == kind), None)
        if item is None:
            raise HTTPException(404, f"hazard {hazard_id} has no {kind!r} evidence")
        record(session, hazard, "evidence_viewed", who.actor, kind)
    try:
        data = svc.evidence.read_verified(item.path, item.sha256)
    except FileNotFoundError:
        raise HTTPException(410, "evidence file is missing from storage") from None
    except EvidenceTamperedError as exc:
        raise HTTPException(409, str(exc)) from None
    return Response(
        data,
        media_type=item.media_type,
        headers={"X-Content-SHA256": item.sha256, "Cache-Control": "private, no-store"},
    )


class ActionBody(BaseModel):
    note: str = Field(default="", max_length=2000)
    reason: Literal[DISMISS_REASONS] | None = None  # type: ignore[valid-type]


ACTIONS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "acknowledge": ("acknowledged", ("property", "police", "admin")),
    "rectify": ("rectified", ("property", "police", "admin")),
    "dismiss": ("dismissed", ("police", "admin")),
    "confirm": (None, ("police", "admin")),
}


@router.post("/{hazard_id}/{action}")
def act_on_hazard(
    hazard_id: int,
    action: Literal["acknowledge", "rectify", "dismiss", "confirm"],
    body: ActionBody | None = None,
    who: Principal = Depends(principal),
    svc: Services = Depends(services),
) -> dict:
    """Lifecycle actions by role; an illegal transition is 409, a role that may not act is 403."""
    body = body or ActionBody()
    to_status, roles = ACTIONS[action]
    if who.role not in roles:
        raise HTTPException(403, f"role {who.role!r} may not {action} hazards")
    with svc.db.session() as session:
        hazard = load_visible(session, who, hazard_id)
        try:
            if action == "dismiss":
                if body.reason is None:
                    raise HTTPException(422, f"dismiss needs a reason, one of {DISMISS_REASONS}")
                transition(session, hazard, "dismissed", who.actor, f"{body.reason}: {body.note}".rstrip(": "))
            elif to_status is None:
                if hazard.status in ("dismissed", "cleared"):
                    raise IllegalTransitionError(f"hazard {hazard.id} is {hazard.status}; it cannot be confirmed")
                hazard.confirmed = True
                record(session, hazard, "confirmed", who.actor, body.note)
            else:
                transition(session, hazard, to_status, who.actor, body.note)
        except IllegalTransitionError as exc:
            raise HTTPException(409, str(exc)) from None
        session.flush()
        return hazard_detail(hazard)
