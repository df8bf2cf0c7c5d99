"""Deliveries for admins: what was sent where, what is stuck, and re-driving dead ones."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from service.actions.errors import Conflict, NotFound
from service.delivery.outbox import redrive
from service.deps import MAX_ROW_ID, Cursor, RowId, RowIdQuery, RuntimeDep, SessionDep, require
from service.runtime import Runtime
from service.store.db import utcnow
from service.store.delivery_models import DEAD, Delivery

router = APIRouter(prefix="/api/v1/deliveries", tags=["deliveries"], dependencies=[Depends(require("admin"))])
Status = Literal["pending", "delivered", "dead", "held"]  # held: by a zone's cooldown (docs/delivery.md)


class DeliveryView(BaseModel):
    id: int
    idempotency_key: str
    hazard_id: int | None  # None: a campaign report's or a cooldown digest's message
    event: str
    agency_id: str
    channel: str
    channel_type: str
    status: str
    attempts: int
    created_at: str
    next_attempt_at: str | None
    expires_at: str
    last_attempt_at: str | None
    delivered_at: str | None
    last_error: str | None
    payload: dict | None = None

    @classmethod
    def of(cls, d: Delivery, payload: bool = False) -> DeliveryView:
        return cls(
            id=d.id,
            idempotency_key=d.idempotency_key,
            hazard_id=d.hazard_id,
            event=d.event,
            agency_id=d.agency_id,
            channel=d.channel,
            channel_type=d.channel_type,
            status=d.status,
            attempts=d.attempts,
            created_at=d.created_at.isoformat(),
            next_attempt_at=d.next_attempt_at.isoformat() if d.status == "pending" else None,
            expires_at=d.expires_at.isoformat(),
            last_attempt_at=d.last_attempt_at.isoformat() if d.last_attempt_at else None,
            delivered_at=d.delivered_at.isoformat() if d.delivered_at else None,
            last_error=d.last_error,
            **({"payload": d.payload} if payload else {}),
        )


class DeliveryList(BaseModel):
    items: list[DeliveryView]
    next_cursor: int | None
    counts: dict[str, int]


class RedriveFilter(BaseModel):
    hazard_id: int | None = Field(default=None, ge=1, le=MAX_ROW_ID)
    agency: str | None = None
    channel_type: str | None = None


class Redriven(BaseModel):
    redriven: int


@router.get("", response_model=DeliveryList, response_model_exclude_unset=True)
def list_deliveries(
    session: SessionDep,
    status: Status | None = None,
    hazard_id: RowIdQuery = None,
    agency: str | None = None,
    channel_type: str | None = None,
    limit: int = Query(50, ge=1, le=500),
    cursor: Cursor = None,
) -> DeliveryList:
    """Newest first, keyset-paginated, with counts per status for the same filters."""
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
        session.execute(query.with_only_columns(Delivery.status, func.count()).group_by(Delivery.status)).tuples().all()
    )
    if cursor is not None:
        query = query.where(Delivery.id < cursor)
    rows = list(session.scalars(query.order_by(Delivery.id.desc()).limit(limit + 1)))
    page = rows[:limit]
    return DeliveryList(
        items=[DeliveryView.of(d) for d in page],
        next_cursor=page[-1].id if len(rows) > limit else None,
        counts=counts,
    )


def _delivery(session: SessionDep, delivery_id: int) -> Delivery:
    row = session.get(Delivery, delivery_id)
    if row is None:
        raise NotFound(f"delivery {delivery_id} not found")
    return row


@router.get("/{delivery_id}", response_model=DeliveryView)
def get_delivery(delivery_id: RowId, session: SessionDep) -> DeliveryView:
    return DeliveryView.of(_delivery(session, delivery_id), payload=True)


@router.post("/{delivery_id}/redrive", response_model=DeliveryView, response_model_exclude_unset=True)
def redrive_one(delivery_id: RowId, session: SessionDep, runtime: RuntimeDep) -> DeliveryView:
    """A dead delivery is sent again (same idempotency key), with a fresh maximum age."""
    row = _delivery(session, delivery_id)
    if row.status != DEAD:
        raise Conflict(f"delivery {delivery_id} is {row.status}; only dead deliveries are re-driven")
    redrive(session, [delivery_id], utcnow(), runtime.settings.delivery.max_age_s)
    session.refresh(row)
    answer = DeliveryView.of(row)
    _commit_and_wake(session, runtime)
    return answer


@router.post("/redrive", response_model=Redriven)
def redrive_many(session: SessionDep, runtime: RuntimeDep, body: RedriveFilter | None = None) -> Redriven:
    """Every dead delivery matching the filter (all of them without one), e.g. after fixing a receiver."""
    body = body or RedriveFilter()
    count = redrive(
        session,
        None,
        utcnow(),
        runtime.settings.delivery.max_age_s,
        hazard_id=body.hazard_id,
        agency_id=body.agency,
        channel_type=body.channel_type,
    )
    _commit_and_wake(session, runtime)
    return Redriven(redriven=count)


def _commit_and_wake(session: SessionDep, runtime: Runtime) -> None:
    """The dispatcher is woken once the rows it should send are committed."""
    session.commit()
    runtime.delivery.outbox.wake.set()
