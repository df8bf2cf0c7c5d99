"""Cameras and zones as configured, with health (RTSP status, last frame, open hazards, static-object model,
ground calibration), scoped to the caller; and the operator actions on a camera's static-object model."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from service.actions.scenes import scene_action
from service.config.site import Camera
from service.deps import PrincipalDep, RuntimeDep, SessionDep
from service.store import models as m
from service.store.lifecycle import ACTIVE
from service.store.scope import visible_compound_ids

router = APIRouter(prefix="/api/v1", tags=["cameras"])


class ZoneView(BaseModel):
    id: str
    type: str
    name: str
    polygon: list[tuple[float, float]] = Field(description="normalised 0..1 points")
    dwell_seconds: float
    categories: list[str]


class CameraView(BaseModel):
    id: str
    compound: str
    name: str
    source: str
    zones: list[ZoneView]
    last_frame_at: str | None
    open_hazards: int
    health: dict | None = Field(description="RTSP cameras: status, frames sampled, last error...")
    static_objects: dict = Field(description="the unknown-object model: enabled, learning or watching")
    calibration: dict | None = Field(description="ground calibration and its reprojection error, if any")


class CameraList(BaseModel):
    items: list[CameraView]


class SceneActionResult(BaseModel):
    ok: bool
    camera: str
    zone: str | None
    static_objects: dict


def _calibration(camera: Camera) -> dict | None:
    if camera.calibration is None:
        return None
    return {
        "points": len(camera.calibration.image_points),
        "reprojection_error_m": round(camera.calibration.reprojection_error_m, 4),
        "report": camera.calibration.report(),
        "min_clear_width_m": camera.min_clear_width_m,
    }


@router.get("/cameras", response_model=CameraList)
def list_cameras(who: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> CameraList:
    site = runtime.sites.current()
    if who.role == "gateway":
        cameras = [c for c in site.cameras if c.id in who.camera_ids]
    else:
        ids = visible_compound_ids(session, who)
        cameras = [c for c in site.cameras if ids is None or c.compound in ids]
    health = runtime.streams.health() if runtime.streams is not None else {}
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
    return CameraList(
        items=[
            CameraView(
                id=c.id,
                compound=c.compound,
                name=c.name,
                source=c.source,
                zones=[
                    ZoneView(
                        id=z.id,
                        type=z.type.value,
                        name=z.name,
                        polygon=z.polygon,
                        dwell_seconds=z.effective_dwell_seconds,
                        categories=list(z.effective_categories),
                    )
                    for z in c.zones
                ],
                last_frame_at=last_frames[c.id].isoformat() if c.id in last_frames else None,
                open_hazards=open_counts.get(c.id, 0),
                health=health[c.id].to_dict() if c.id in health else None,
                static_objects=scene.status() if (scene := runtime.scenes.get(c.id)) else {"enabled": False},
                calibration=_calibration(c),
            )
            for c in cameras
        ]
    )


@router.post("/cameras/{camera_id}/clear-reference", response_model=SceneActionResult)
def clear_reference(
    camera_id: str, request: Request, who: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> dict:
    """The latest picture shows the scene clear: it becomes the empty scene of the static-object model."""
    return scene_action(session, runtime.scenes, runtime.sites.current(), who, camera_id, None, _ip(request))


@router.post("/cameras/{camera_id}/zones/{zone_id}/confirm-clear", response_model=SceneActionResult)
def confirm_zone_clear(
    camera_id: str, zone_id: str, request: Request, who: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> dict:
    """The zone is confirmed clear now: what it shows is learned as empty (objects there stop being reported)."""
    return scene_action(session, runtime.scenes, runtime.sites.current(), who, camera_id, zone_id, _ip(request))


def _ip(request: Request) -> str:
    return request.client.host if request.client else ""
