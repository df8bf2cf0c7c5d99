"""Hazard events: list, read, evidence download, and the lifecycle actions, all scoped to the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.api.deps import Services, principal, require, services
from service.auth.audit import audit
from service.auth.keys import Principal
from service.auth.scope import scope_hazards
from service.store import models as m
from service.store.evidence import EvidenceTamperedError
from service.store.lifecycle import IllegalTransitionError, record, transition
from service.store.queries import HazardFilters, hazard_page, status_counts

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
    filters = HazardFilters(compound, camera, zone_type, category, status, since, until)
    with svc.db.session() as session:
        page = hazard_page(session, who, filters, order, limit, cursor)
        return {
            "items": [hazard_summary(h) for h in page.items],
            "next_cursor": page.next_cursor,
            "counts": status_counts(session, who, filters),
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
        audit(session, who, "evidence.view", "hazard", hazard_id, kind)
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
    severity: Literal["minor", "major"] | None = Field(
        default=None, description="confirm only: grade the hazard (major goes up the escalation ladder)"
    )


ACTIONS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "acknowledge": ("acknowledged", ("property", "police", "admin")),
    "rectify": ("rectified", ("property", "police", "admin")),
    "dismiss": ("dismissed", ("police", "admin")),
    "confirm": (None, ("police", "admin")),
    "note": (None, ("property", "police", "admin")),
}


@router.post("/{hazard_id}/{action}")
def act_on_hazard(
    hazard_id: int,
    action: Literal["acknowledge", "rectify", "dismiss", "confirm", "note"],
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
            elif action == "note":
                if not body.note.strip():
                    raise HTTPException(422, "a note needs some text")
                record(session, hazard, "note", who.actor, body.note.strip())
            elif to_status is None:
                if hazard.status in ("dismissed", "cleared"):
                    raise IllegalTransitionError(f"hazard {hazard.id} is {hazard.status}; it cannot be confirmed")
                hazard.confirmed = True
                if body.severity is not None:
                    hazard.severity = body.severity
                note = f"severity {hazard.severity}" + (f": {body.note}" if body.note else "")
                record(session, hazard, "confirmed", who.actor, note)
            else:
                transition(session, hazard, to_status, who.actor, body.note)
        except IllegalTransitionError as exc:
            raise HTTPException(409, str(exc)) from None
        audit(session, who, f"hazard.{action}", "hazard", hazard.id, hazard.history[-1].note if hazard.history else "")
        session.flush()
        detail = hazard_detail(hazard)
        camera_id, zone_key = hazard.camera_id, hazard.zone_key
    if action == "dismiss":
        # A reviewer judged the zone as it looks acceptable: learn it, so the same thing does not alarm again.
        svc.pipeline.confirm_zone_clear(camera_id, zone_key)
    return detail
