"""Zone edits made in the web editor, kept apart from the site file and applied over it at start-up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.store.db import Base, utcnow


class CameraOverride(Base):
    """One camera's zones and masks as last saved in the editor (replaces those in the site file)."""

    __tablename__ = "camera_overrides"
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    zones: Mapped[list] = mapped_column(JSON)
    masks: Mapped[list] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
