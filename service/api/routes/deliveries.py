"""Deliveries for admins: what was sent where, what is stuck, and re-driving dead ones."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel
from sqlalchemy import func, select

from service.api.deps import Services, require, services
from service.auth.keys import Principal
from service.delivery.models import DEAD, Delivery
from service.delivery.outbox import redrive
from service.store.db import utcnow

router = APIRouter(prefix="/api/v1/deliveries", tags=["deliveries"])
Status = Literal["pending", "delivered", "dead"]


def delivery_json(d: Delivery, payload: bool = False) -> dict:
    out = {
        "id": d.id,
        "idempotency_key": d.idempotency_key,
        "hazard_id": d.hazard_id,
        "event": d.event,
        "agency_id": d.agency_id,
        "channel": d.channel,
        "channel_type": d.channel_type,
        "status": d.status,
        "attempts": d.attempts,
        "created_at": d.created_at.isoformat(),
        "next_attempt_at": d.next_attempt_at.isoformat() if d.status == "pending" else None,
        "expires_at": d.expires_at.isoformat(),
        "last_attempt_at": d.last_attempt_at.isoformat() if d.last_attempt_at else None,
        "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None,
        "last_error": d.last_error,
    }
    return out | {"payload": d.payload} if payload else out


@router.get("")
def list_deliveries(
    status: Status | None = None,
    hazard_id: int | None = None,
    agency: str | None = None,
    channel_type: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    cursor: int | None = Query(None, description="next_cursor from the previous page"),
    _: Principal = Depends(require("admin")),
    svc: Services = Depends(services),
) -> dict:
    """Newest first, keyset-paginated, with counts per status for the same filters."""
    with svc.db.session() as session:
        query = select(Delivery)
        for column, value in (
            (Delivery.status, status),
            (Delivery.hazard_id, hazard_id),
            (Delivery.agency_id, agency),
            (Delivery.channel_type, channel_type),
        ):
            if value is not None:
                query = query.where(column == value)
        counts = dict(
            session.execute(query.with_only_columns(Delivery.status, func.count()).group_by(Delivery.status)).all()
        )
        if cursor is not None:
            query = query.where(Delivery.id < cursor)
        rows = list(session.scalars(query.order_by(Delivery.id.desc()).limit(limit + 1)))
        page = rows[:limit]
        return {
            "items": [delivery_json(d) for d in page],
            "next_cursor": page[-1].id if len(rows) > limit else None,
            "counts": counts,
        }


@router.get("/{delivery_id}")
def get_delivery(delivery_id: int, _: Principal = Depends(require("admin")), svc: Services = Depends(services)) -> dict:
    with svc.db.session() as session:
        row = session.get(Delivery, delivery_id)
        if row is None:
            raise HTTPException(404, f"delivery {delivery_id} not found")
        return delivery_json(row, payload=True)


def _wake(svc: Services) -> None:
    if svc.delivery is not None:
        svc.delivery.outbox.wake.set()


@router.post("/{delivery_id}/redrive")
def redrive_one(delivery_id: int, _: Principal = Depends(require("admin")), svc: Services = Depends(services)) -> dict:
    """A dead delivery is sent again (same idempotency key), with a fresh maximum age."""
    with svc.db.session() as session:
        row = session.get(Delivery, delivery_id)
        if row is None:
            raise HTTPException(404, f"delivery {delivery_id} not found")
        if row.status != DEAD:
            raise HTTPException(409, f"delivery {delivery_id} is {row.status}; only dead deliveries are re-driven")
        redrive(session, [delivery_id], utcnow(), svc.settings.delivery.max_age_s)
        session.refresh(row)
        out = delivery_json(row)
    _wake(svc)
    return out


class RedriveFilter(BaseModel):
    hazard_id: int | None = None
    agency: str | None = None
    channel_type: str | None = None


@router.post("/redrive")
def redrive_many(
    body: RedriveFilter | None = None, _: Principal = Depends(require("admin")), svc: Services = Depends(services)
) -> dict:
    """Every dead delivery matching the filter (all of them without one), e.g. after fixing a receiver."""
    body = body or RedriveFilter()
    with svc.db.session() as session:
        count = redrive(
            session,
            None,
            utcnow(),
            svc.settings.delivery.max_age_s,
            hazard_id=body.hazard_id,
            agency_id=body.agency,
            channel_type=body.channel_type,
        )
    _wake(svc)
    return {"redriven": count}
