"""Camera health and per-compound counts for the cameras page.

A camera is online when a frame arrived within `online_window_s`; where the stream supervisor runs
(`Runtime.streams`, RTSP cameras), its own status wins, since it also knows 'stalled' and 'starting'.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.config.site import Camera
from service.store import models as m
from service.store.db import utcnow
from service.store.lifecycle import ACTIVE
from service.web.config import WebSettings
from service.web.counts import cached_counts


def camera_health(session: Session, cameras: list[Camera], web: WebSettings, streams: object | None) -> dict:
    """camera id -> {status, last_frame_at, open}; one index lookup per camera, one grouped count."""
    ids = [c.id for c in cameras]
    query = (
        select(m.HazardEvent.camera_id, func.count())
        .where(m.HazardEvent.status.in_(ACTIVE), m.HazardEvent.camera_id.in_(ids))
        .group_by(m.HazardEvent.camera_id)
    )
    open_counts = cached_counts(
        session, ("open-per-camera", tuple(ids)), lambda: dict(session.execute(query).tuples().all())
    )
    supervised: dict = {}
    if streams is not None and hasattr(streams, "health"):
        try:
            supervised = streams.health()
        except Exception:  # health is informative; never let it break the page
            supervised = {}
    window = timedelta(seconds=web.online_window_s)
    now = utcnow()
    out = {}
    for camera in cameras:
        last = session.scalar(select(func.max(m.FrameRecord.captured_at)).where(m.FrameRecord.camera_id == camera.id))
        if camera.id in supervised:
            status = supervised[camera.id].status
        elif last is None:
            status = "never"
        else:
            status = "online" if now - last <= window else "offline"
        out[camera.id] = {"status": status, "last_frame_at": last, "open": open_counts.get(camera.id, 0)}
    return out


def compound_counts(session: Session, visible: list[str] | None) -> dict[str, dict[str, int]]:
    """compound id -> status -> number of hazards (answered by the (compound, status) index alone)."""
    query = select(m.HazardEvent.compound_id, m.HazardEvent.status, func.count()).group_by(
        m.HazardEvent.compound_id, m.HazardEvent.status
    )
    if visible is not None:
        query = query.where(m.HazardEvent.compound_id.in_(visible))
    out: dict[str, dict[str, int]] = {}
    for compound, status, count in session.execute(query).tuples():
        out.setdefault(compound, {})[status] = count
    return out
