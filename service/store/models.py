"""Core tables: the site (agencies, compounds, cameras, zones), frames, detections, hazards and their
history, evidence files, routing targets, API keys and per-camera dwell state.

Schema changes go through Alembic (service/store/migrations); tests check the migrations produce exactly
these tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from service.store.db import Base, utcnow


class Agency(Base):
    __tablename__ = "agencies"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32), index=True)


class Compound(Base):
    __tablename__ = "compounds"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300), default="")
    property_company_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    police_station_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    township_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), default=None)


class Camera(Base):
    __tablename__ = "cameras"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compounds.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    source: Mapped[str] = mapped_column(String(16), default="push")


class Zone(Base):
    __tablename__ = "zones"
    __table_args__ = (UniqueConstraint("camera_id", "zone_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), index=True)
    zone_key: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200), default="")
    polygon: Mapped[list] = mapped_column(JSON)
    dwell_seconds: Mapped[float] = mapped_column(Float)
    categories: Mapped[list] = mapped_column(JSON)


class FrameRecord(Base):
    """Metadata of every frame received; the image itself is kept only when it may become evidence."""

    __tablename__ = "frames"
    __table_args__ = (Index("ix_frames_camera_captured", "camera_id", "captured_at"),)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"))
    captured_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int]
    height: Mapped[int]
    late: Mapped[bool] = mapped_column(default=False)
    inference_ms: Mapped[float] = mapped_column(Float, default=0.0)
    image_path: Mapped[str | None] = mapped_column(String(300), default=None)
    device_event: Mapped[dict | None] = mapped_column(JSON, default=None)  # what the device said it saw


class DetectionRecord(Base):
    __tablename__ = "detections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    frame_id: Mapped[str] = mapped_column(ForeignKey("frames.id", ondelete="CASCADE"), index=True)
    class_name: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(32))
    confidence: Mapped[float] = mapped_column(Float)
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    x2: Mapped[float] = mapped_column(Float)
    y2: Mapped[float] = mapped_column(Float)
    origin: Mapped[str] = mapped_column(String(16), default="model")
    track_id: Mapped[int] = mapped_column(Integer, default=-1)
    zones: Mapped[list] = mapped_column(JSON, default=list)


class HazardEvent(Base):
    """One hazard of the campaign, from opening to its end: an object in a zone past its dwell time (camera),
    or what an inspector or a resident reported. `kind` is its kind in the division of duties."""

    __tablename__ = "hazard_events"
    __table_args__ = (
        Index("ix_hazards_status_opened", "status", "opened_at"),
        Index("ix_hazards_compound_opened", "compound_id", "opened_at"),
        # The review queue's counts per status (a covering scan) and a company's scoped pages (ordered ranges).
        Index("ix_hazards_compound_status", "compound_id", "status"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    engine_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(16), default="camera", server_default="camera", index=True)
    camera_id: Mapped[str | None] = mapped_column(ForeignKey("cameras.id"), index=True)
    compound_id: Mapped[str] = mapped_column(ForeignKey("compounds.id"))
    zone_key: Mapped[str] = mapped_column(String(64))
    zone_type: Mapped[str] = mapped_column(String(32), index=True)
    category: Mapped[str] = mapped_column(String(32), index=True)
    class_name: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")
    severity: Mapped[str] = mapped_column(String(16), default="minor")
    confirmed: Mapped[bool] = mapped_column(default=False)
    confidence: Mapped[float] = mapped_column(Float)
    box: Mapped[list] = mapped_column(JSON)
    first_seen_at: Mapped[datetime]
    opened_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    first_frame_id: Mapped[str | None] = mapped_column(ForeignKey("frames.id"), default=None)
    latest_frame_id: Mapped[str | None] = mapped_column(ForeignKey("frames.id"), default=None)
    cleared_frame_id: Mapped[str | None] = mapped_column(ForeignKey("frames.id"), default=None)
    clear_width_m: Mapped[float | None] = mapped_column(Float, default=None)
    dismiss_reason: Mapped[str | None] = mapped_column(Text, default=None)
    location: Mapped[str] = mapped_column(String(300), default="", server_default="")
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    responsible_agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), index=True, default=None)
    acknowledge_due_at: Mapped[datetime | None] = mapped_column(default=None)
    rectify_due_at: Mapped[datetime | None] = mapped_column(default=None)
    supervised: Mapped[bool] = mapped_column(default=False, server_default=false())
    legal_hold: Mapped[bool] = mapped_column(default=False, server_default=false())  # retention never deletes
    # A property company answered "not an obstruction / please review": awaiting the police's decision.
    disputed: Mapped[bool] = mapped_column(default=False, server_default=false())

    history: Mapped[list[HazardHistory]] = relationship(
        back_populates="hazard", order_by="HazardHistory.id", cascade="all, delete-orphan"
    )
    evidence: Mapped[list[Evidence]] = relationship(order_by="Evidence.id", cascade="all, delete-orphan")
    recipients: Mapped[list[HazardRecipient]] = relationship(cascade="all, delete-orphan")
    latest_frame: Mapped[FrameRecord | None] = relationship(foreign_keys=[latest_frame_id], viewonly=True)


class HazardHistory(Base):
    """Who did what to a hazard, when: the audit trail shown on the hazard page."""

    __tablename__ = "hazard_history"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard_events.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16), default=None)
    to_status: Mapped[str | None] = mapped_column(String(16), default=None)
    note: Mapped[str] = mapped_column(Text, default="")  # free text a person wrote (or a machine's English)
    params: Mapped[dict | None] = mapped_column(JSON, default=None)  # the action's values, rendered translated
    captured_at: Mapped[datetime | None] = mapped_column(default=None)  # the frame's capture time, when about one
    hazard: Mapped[HazardEvent] = relationship(back_populates="history")


class Evidence(Base):
    """An image file kept for a hazard, with the SHA-256 that proves it unaltered."""

    __tablename__ = "evidence"
    __table_args__ = (UniqueConstraint("hazard_id", "kind", "frame_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard_events.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    frame_id: Mapped[str | None] = mapped_column(String(32), default=None)
    path: Mapped[str] = mapped_column(String(300))
    media_type: Mapped[str] = mapped_column(String(32), default="image/jpeg")
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class HazardRecipient(Base):
    """A routing target: an agency that must hear about this hazard, and why."""

    __tablename__ = "hazard_recipients"
    __table_args__ = (UniqueConstraint("hazard_id", "agency_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    hazard_id: Mapped[int] = mapped_column(ForeignKey("hazard_events.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[str] = mapped_column(ForeignKey("agencies.id"), index=True)
    agency_kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(100), default="routing")
    added_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A machine credential. Only the SHA-256 of the secret is stored."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[str | None] = mapped_column(ForeignKey("agencies.id"), default=None)
    camera_ids: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(default=None)


class CameraState(Base):
    """The dwell engine's memory of one camera, saved with every frame so a restart resumes."""

    __tablename__ = "camera_state"
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    state: Mapped[dict] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class StaticSceneState(Base):
    """A camera's static-object background model (compressed arrays), saved periodically and on shutdown.

    Kept apart from `camera_state` because it is binary and ~0.5 MB: written every few frames, not every one.
    """

    __tablename__ = "static_scene_state"
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    model: Mapped[bytes] = mapped_column(LargeBinary)
    last_captured_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class CameraOverride(Base):
    """One camera's zones and masks as last saved in the editor (replaces those in the site file)."""

    __tablename__ = "camera_overrides"
    camera_id: Mapped[str] = mapped_column(ForeignKey("cameras.id"), primary_key=True)
    zones: Mapped[list] = mapped_column(JSON)
    masks: Mapped[list] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
