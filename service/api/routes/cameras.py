"""Cameras and zones as configured, with health (RTSP status, last frame, open hazards, static-object model,
ground calibration), scoped to the caller; and the operator actions on a camera's static-object model."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException
from sqlalchemy import func, select

from service.api.deps import Services, principal, services
from service.auth.audit import audit
from service.auth.keys import Principal
from service.auth.scope import can_see_compound, visible_compound_ids
from service.config.site import Camera
from service.store import models as m
from service.store.lifecycle import ACTIVE

router = APIRouter(prefix="/api/v1", tags=["cameras"])
OPERATORS = ("property", "police", "admin")


def _calibration(camera: Camera) -> dict | None:
    if camera.calibration is None:
        return None
    return {
        "points": len(camera.calibration.image_points),
        "reprojection_error_m": round(camera.calibration.reprojection_error_m, 4),
        "report": camera.calibration.report(),
        "min_clear_width_m": camera.min_clear_width_m,
    }


def _static_status(svc: Services, camera: Camera) -> dict:
    scene = svc.pipeline.static.get(camera.id)
    return scene.status() if scene is not None else {"enabled": False}


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
            )
            .tuples()
            .all()
        )
        open_counts = dict(
            session.execute(
                select(m.HazardEvent.camera_id, func.count())
                .where(m.HazardEvent.status.in_(ACTIVE))
                .group_by(m.HazardEvent.camera_id)
            )
            .tuples()
            .all()
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
                "static_objects": _static_status(svc, c),
                "calibration": _calibration(c),
            }
            for c in cameras
        ]
    }


def scene_action(svc: Services, who: Principal, camera_id: str, zone_id: str | None, ip: str = "") -> dict:
    """Tell a camera's static-object model what the clear scene is: the whole latest picture (zone_id None) or
    one zone. Shared by the API and the zone editor; HTTPException 403/404/409 says why it was not done."""
    if who.role not in OPERATORS:
        raise HTTPException(403, f"role {who.role!r} may not change the scene model (needs {OPERATORS})")
    camera = svc.pipeline.site.camera(camera_id)
    with svc.db.session() as session:
        if camera is None or not can_see_compound(session, who, camera.compound):
            raise HTTPException(404, f"camera {camera_id!r} not found")
    if svc.pipeline.static.get(camera_id) is None:
        raise HTTPException(409, f"camera {camera_id!r} has no static-object model (static_objects off or no zones)")
    if zone_id is not None and zone_id not in {z.id for z in camera.zones}:
        raise HTTPException(404, f"camera {camera_id!r} has no zone {zone_id!r}")
    pipeline = svc.pipeline
    done = pipeline.clear_reference(camera_id) if zone_id is None else pipeline.confirm_zone_clear(camera_id, zone_id)
    if not done:
        raise HTTPException(409, f"camera {camera_id!r} has sent no frame yet: nothing to learn as clear")
    action, detail = (
        ("camera.clear_reference", "latest sample learned as the empty scene")
        if zone_id is None
        else ("zone.confirm_clear", f"zone {zone_id} learned as clear")
    )
    with svc.db.session() as session:
        audit(session, who, action, "camera", camera_id, detail, ip)
    status = pipeline.static.get(camera_id).status()
    return {"ok": True, "camera": camera_id, "zone": zone_id, "static_objects": status}


@router.post("/cameras/{camera_id}/clear-reference")
def clear_reference(camera_id: str, who: Principal = Depends(principal), svc: Services = Depends(services)) -> dict:
    """The latest picture shows the scene clear: it becomes the empty scene of the static-object model."""
    return scene_action(svc, who, camera_id, None)


@router.post("/cameras/{camera_id}/zones/{zone_id}/confirm-clear")
def confirm_zone_clear(
    camera_id: str, zone_id: str, who: Principal = Depends(principal), svc: Services = Depends(services)
) -> dict:
    """The zone is confirmed clear now: what it shows is learned as empty (objects there stop being reported)."""
    return scene_action(svc, who, camera_id, zone_id)
