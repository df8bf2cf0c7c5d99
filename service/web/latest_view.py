"""Which picture the zone editor and the cameras page show for a camera: its newest kept frame (evidence,
hash-verified) or its latest view (`store/latest_frames.py`), whichever was captured later.

Why both: a frame's image is kept only when an object stood in a zone, so a new or quiet camera has none;
the latest view is replaced every few minutes whatever the frame showed. No picture at all means no frame
came from the camera yet, which the pages say in words instead of drawing a blank canvas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store import models as m
from service.store.latest_frames import LatestFrames


@dataclass(frozen=True)
class CameraView:
    """A picture of the camera for a page: where to fetch it, when it was captured, its size in pixels."""

    url: str
    captured_at: datetime
    width: int
    height: int
    kind: str  # "kept" (a stored frame) or "latest" (the latest view)


def latest_view(latest: LatestFrames | None, camera_id: str) -> CameraView | None:
    found = latest.get(camera_id) if latest is not None else None
    if found is None:
        return None
    stamp = int(found.captured_at.timestamp())  # a new view, a new URL: no stale picture from a cache
    url = f"/web/cameras/{camera_id}/view.jpg?at={stamp}"
    return CameraView(url, found.captured_at, found.width, found.height, "latest")


def kept_view(session: Session, camera_id: str) -> CameraView | None:
    frame = session.scalars(
        select(m.FrameRecord)
        .where(m.FrameRecord.camera_id == camera_id, m.FrameRecord.image_path.is_not(None))
        .order_by(m.FrameRecord.captured_at.desc())
        .limit(1)
    ).first()
    if frame is None:
        return None
    return CameraView(f"/web/frames/{frame.id}", frame.captured_at, frame.width, frame.height, "kept")


def best_view(session: Session, latest: LatestFrames | None, camera_id: str) -> CameraView | None:
    """The newer of the two (a kept frame on a tie: it is verified evidence); None: no frame came yet."""
    views = [v for v in (kept_view(session, camera_id), latest_view(latest, camera_id)) if v is not None]
    return max(views, key=lambda v: (v.captured_at, v.kind == "kept")) if views else None


def page_views(session: Session, latest: LatestFrames | None, camera_ids: list[str]) -> dict[str, CameraView]:
    """For the cameras page: the latest view of each camera, a kept frame only for a camera without one (a
    database written before latest views existed), so the page costs no query per camera in normal running."""
    views: dict[str, CameraView] = {}
    for camera_id in camera_ids:
        view = latest_view(latest, camera_id) or kept_view(session, camera_id)
        if view is not None:
            views[camera_id] = view
    return views
