"""What cameras watch apart from hazards: objects a reviewer marked as fixtures, and e-bikes entering lifts.

A fixture (a kiosk, a registered vehicle that may stand there, a planter) is ignored by the dwell engine where
it was marked, until the mark expires or is removed (service/hazards/fixtures.py). A lift entry is one object
of a counted class seen entering an elevator zone, counted per lift and site day whether or not it stayed
long enough to open a hazard (docs/lifts.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from service.store.db import Base, utcnow


class Fixture(Base):
    """A reviewer's mark: this object in this place is permanent. `box` is (x1, y1, x2, y2) as fractions of the
    frame, so it holds whatever size the camera sends."""

    __tablename__ = "fixtures"
    __table_args__ = (Index("ix_fixtures_camera_expires", "camera_id", "expires_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(String(64))
    zone_key: Mapped[str | None] = mapped_column(String(64), default=None)
    category: Mapped[str] = mapped_column(String(32))
    class_name: Mapped[str] = mapped_column(String(64))
    box: Mapped[list] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_events.id", ondelete="SET NULL"), default=None)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    removed_at: Mapped[datetime | None] = mapped_column(default=None)
    removed_by: Mapped[str | None] = mapped_column(String(128), default=None)


class LiftEntry(Base):
    """One object entering a lift. `day` is the site's date of `entered_at`, so counts per day need no time zone
    arithmetic in SQL; `hazard_id` is set when the same object stayed past the dwell and opened a hazard."""

    __tablename__ = "lift_entries"
    __table_args__ = (Index("ix_lift_entries_day", "day", "camera_id", "zone_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    engine_key: Mapped[str] = mapped_column(String(200), unique=True)  # track/zone: one entry per visit
    camera_id: Mapped[str] = mapped_column(String(64))
    zone_key: Mapped[str] = mapped_column(String(64))
    compound_id: Mapped[str] = mapped_column(String(64), index=True)
    category: Mapped[str] = mapped_column(String(32))
    class_name: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime]
    day: Mapped[str] = mapped_column(String(10))
    frame_id: Mapped[str | None] = mapped_column(String(32), default=None)
    hazard_id: Mapped[int | None] = mapped_column(ForeignKey("hazard_events.id", ondelete="SET NULL"), default=None)
