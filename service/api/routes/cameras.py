"""Cameras and zones as configured, with health (RTSP status, last frame, open hazards), scoped to the caller."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from service.api.deps import Services, principal, services
from service.auth.keys import Principal
from service.auth.scope import visible_compound_ids
from service.store import models as m
from service.store.lifecycle import ACTIVE

router = APIRouter(prefix="/api/v1", tags=["cameras"])


@router.get("/cameras")
def list_cameras(who: Principal = Depends(principal), svc: Services = Depends(services)) -> dict:
    site = svc.pipeline.site
    if who.role == "gateway":
        cameras = [c for c in site.cameras if c.id in who.camera_ids]
    else:
        with svc.db.session() as session:
            ids = visible_compound_ids(session, who)
        cameras = [c for c in site.cameras if ids is None or c.compound in ids]
    health = svc.streams.health() if svc.streams is not None else {}
    with svc.db.session() as session:
        last_frames = dict(
            session.execute(
                select(m.FrameRecord.camera_id, func.max(m.FrameRecord.captured_at)).group_by(m.FrameRecord.camera_id)
            ).tuples().all()
        )
        open_counts = dict(
            session.execute(
                select(m.HazardEvent.camera_id, func.count())
                .where(m.HazardEvent.status.in_(ACTIVE))
                .group_by(m.HazardEvent.camera_id)
            ).tuples().all()
        )
    return {
        "items": [
            {
                "id": c.id,
                "compound": c.compound,
                "name": c.name,
                "source": c.source,
                "zones": [
                    {
                        "id": z.id,
                        "type": z.type.value,
                        "name": z.name,
                        "polygon": z.polygon,
                        "dwell_seconds": z.effective_dwell_seconds,
                        "categories": list(z.effective_categories),
                    }
                    for z in c.zones
                ],
                "last_frame_at": last_frames[c.id].isoformat() if c.id in last_frames else None,
                "open_hazards": open_counts.get(c.id, 0),
                "health": health[c.id].to_dict() if c.id in health else None,
            }
            for c in cameras
        ]
    }
