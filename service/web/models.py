"""Zone edits made in the web editor, kept apart from the site file and applied over it at start-up;
and the index the review queue needs on the hazards table."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.store.db import Base, utcnow
from service.store.models import HazardEvent


class CameraOverride(Base):
    """One camera's zones and masks as last saved in the editor (replaces those in the site file)."""

    __tablename__ = "camera_overrides"
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    zones: Mapped[list] = mapped_column(JSON)
    masks: Mapped[list] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


# The review queue's counts and scoped pages filter hazards by compound and status: this index serves both
# (a covering scan for counts per status, ordered ranges for a company's own compounds) on SQLite and
# PostgreSQL. Declared here, with the web tables, because the queue is what needs it.
Index("ix_hazards_compound_status", HazardEvent.compound_id, HazardEvent.status)
