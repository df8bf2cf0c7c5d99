"""Delivery tables: the outbox (one row per message per recipient channel), escalations done, and the
cooldown digests.

Outbox rows are inserted in the transaction of the hazard change that causes them, so a change is never
committed without its messages, nor a message without its change. A row the zone's cooldown holds back is
`held` (never claimed by the dispatcher) until one digest per window lists it (service/delivery/cooldown.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.store.db import Base, utcnow

PENDING, DELIVERED, DEAD, HELD = "pending", "delivered", "dead", "held"


class Delivery(Base):
    """One message to one channel of one agency, about a hazard's change or a campaign report.

    `pending` rows are due at `next_attempt_at`. `held` rows wait for their cooldown window (`window_key`)
    to end at `held_until`; `digest_id` is then the digest that listed them (and, on the digest's own
    message, event "digest", the digest it carries).
    """

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_status_due", "status", "next_attempt_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_events.id", ondelete="CASCADE"), index=True)
    history_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_history.id", ondelete="CASCADE"), index=True)
    report_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign_reports.id", ondelete="CASCADE"), index=True, default=None
    )  # a campaign report's message (then hazard and history are empty)
    event: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    agency_kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(64))
    channel_type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    last_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    delivered_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    payload: Mapped[dict] = mapped_column(JSON)
    window_key: Mapped[str | None] = mapped_column(String(160), index=True, default=None)
    held_until: Mapped[datetime | None] = mapped_column(default=None)
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("delivery_digests.id", ondelete="SET NULL"), index=True, default=None
    )


class DeliveryDigest(Base):
    """One cooldown window of one zone for one recipient channel, summed up in one message.

    `window_key` is unique: however many instances run the digest job, a window is summed up once.
    """

    __tablename__ = "delivery_digests"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    window_key: Mapped[str] = mapped_column(String(160), unique=True)
    after_hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_events.id", ondelete="SET NULL"))
    camera_id: Mapped[str] = mapped_column(String(64))
    zone_key: Mapped[str] = mapped_column(String(64))
    agency_id: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(64))
    window_start: Mapped[datetime]
    window_end: Mapped[datetime]
    made_at: Mapped[datetime] = mapped_column(default=utcnow)
    hazard_ids: Mapped[list] = mapped_column(JSON, default=list)


class HazardEscalation(Base):
    """A missed deadline acted on. Unique per hazard and stage: an escalation is never sent twice."""

    __tablename__ = "hazard_escalations"
    __table_args__ = (UniqueConstraint("hazard_id", "stage"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard_events.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    level: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    escalated_at: Mapped[datetime]
    agency_ids: Mapped[list] = mapped_column(JSON, default=list)
