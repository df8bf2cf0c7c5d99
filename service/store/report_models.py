"""A resident's report (举报投诉, Open311): its public tracking code and the reporter's contact, one row per
resident hazard.

Kept apart from `hazard_events` on purpose: the hazard row, its history and everything delivered carry no
personal data; the contact here is read only by the compound's property company, police station and admin
(service/actions/reports.py), never in Open311 answers nor in delivered messages.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.store.db import Base, utcnow
from service.store.models import HazardEvent


class ResidentReport(Base):
    """What a resident sent besides the hazard itself: where (as given), the contact, the media URL (text only,
    never fetched). `tracking_code` is the Open311 service_request_id: random, unguessable, unique."""

    __tablename__ = "resident_reports"
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard_events.id", ondelete="CASCADE"), primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(32), unique=True)
    address_string: Mapped[str] = mapped_column(String(300), default="")
    lat: Mapped[float | None] = mapped_column(Float, default=None)
    long: Mapped[float | None] = mapped_column(Float, default=None)
    media_url: Mapped[str] = mapped_column(String(500), default="")
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(50), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    hazard: Mapped[HazardEvent] = relationship()
