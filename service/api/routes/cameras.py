"""Cameras and zones as configured, scoped to the caller's compounds."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from service.api.deps import Services, principal, services
from service.auth.keys import Principal
from service.auth.scope import visible_compound_ids

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
            }
            for c in cameras
        ]
    }
