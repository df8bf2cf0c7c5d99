"""What operators may tell a camera's scene (unknown-object) model: the whole latest picture is the clear
scene, or one zone is confirmed clear. Checked by role and compound, audited.

Refused while the detector still sees something in the zones: learning a parked car as "the empty scene"
would hide it, and every car parked there after it, from the unknown-object watch. `scene_blocker` says why
(the page disables its buttons with that reason; the action refuses with 409 so a stale page cannot do it).
The model's own unknown objects (origin "static") never block: declaring them part of the scene is the point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.actions.errors import Conflict, Forbidden, NotFound
from service.auth.audit import audit
from service.auth.keys import Principal
from service.config.site import Camera, Site
from service.scene.scenes import StaticScenes
from service.store import models as m
from service.store.lifecycle import ACTIVE
from service.store.scope import can_see_compound

OPERATORS = ("property", "police", "admin")
UNKNOWN_OBJECT = "unknown_object"  # what the scene model's own finds are called (scene/fusion.py)


@dataclass(frozen=True)
class SceneBlock:
    """Why the scene may not be learned as empty now: `reason` object_in_zone (the latest frame) or
    active_hazard; the zones concerned, the categories seen there, and the frame's capture time."""

    reason: str
    zones: tuple[str, ...]
    categories: tuple[str, ...] = ()
    frame_at: datetime | None = None  # the latest frame's capture time (object_in_zone)

    def message(self, camera_id: str) -> str:
        if self.reason == "object_in_zone":
            seen = ", ".join(self.categories)
            return f"camera {camera_id!r}: {seen} detected in zones {list(self.zones)} in its latest frame"
        return f"camera {camera_id!r} has an active hazard in zones {list(self.zones)}"


def scene_blocks(session: Session, camera: Camera) -> list[SceneBlock]:
    """What stands in the camera's zones so that its scene may not be declared empty: detector objects in its
    latest frame, and active hazards (not the camera's offline one, not an unknown object). Empty: nothing."""
    blocks: list[SceneBlock] = []
    latest = session.scalars(
        select(m.FrameRecord)
        .where(m.FrameRecord.camera_id == camera.id, m.FrameRecord.late.is_(False))
        .order_by(m.FrameRecord.captured_at.desc())
        .limit(1)
    ).first()
    if latest is not None:
        standing = [
            r
            for r in session.scalars(
                select(m.DetectionRecord).where(
                    m.DetectionRecord.frame_id == latest.id, m.DetectionRecord.origin != "static"
                )
            )
            if r.zones
        ]
        if standing:
            zones = tuple(sorted({z for r in standing for z in r.zones}))
            categories = tuple(sorted({r.category for r in standing}))
            blocks.append(SceneBlock("object_in_zone", zones, categories, latest.captured_at))
    hazard_zones = session.scalars(
        select(m.HazardEvent.zone_key).where(
            m.HazardEvent.camera_id == camera.id,
            m.HazardEvent.status.in_(ACTIVE),
            m.HazardEvent.kind != "camera_offline",
            m.HazardEvent.class_name != UNKNOWN_OBJECT,
        )
    ).all()
    known = {z.id for z in camera.zones}
    zones = tuple(sorted({z for z in hazard_zones if z in known}))
    if zones:
        blocks.append(SceneBlock("active_hazard", zones))
    return blocks


def scene_blocker(session: Session, camera: Camera, zone_id: str | None = None) -> SceneBlock | None:
    """The first block of the camera (zone_id: the first concerning that zone), None when nothing stands there."""
    return next((b for b in scene_blocks(session, camera) if zone_id is None or zone_id in b.zones), None)


def visible_camera(session: Session, site: Site, who: Principal, camera_id: str) -> Camera:
    """The camera if the caller may see its compound; NotFound otherwise."""
    camera = site.camera(camera_id)
    if camera is None or not can_see_compound(session, who, camera.compound):
        raise NotFound(f"camera {camera_id!r} not found")
    return camera


def scene_action(
    session: Session,
    scenes: StaticScenes,
    site: Site,
    who: Principal,
    camera_id: str,
    zone_id: str | None,
    ip: str = "",
) -> dict:
    """Learn the clear scene: the whole latest picture (zone_id None) or one zone. Forbidden, NotFound or
    Conflict (no model, no frame yet, an object or an active hazard in the zones) say why it was not done;
    returns the model's status."""
    if who.role not in OPERATORS:
        raise Forbidden(f"role {who.role!r} may not change the scene model (needs {OPERATORS})")
    camera = visible_camera(session, site, who, camera_id)
    if scenes.get(camera_id) is None:
        reason = "no_zones" if not camera.zones else "static_objects_off"
        raise Conflict(
            f"camera {camera_id!r} has no static-object model "
            + ("(it has no zones)" if not camera.zones else "(static_objects: false in the site file)"),
            reason=reason,
        )
    if zone_id is not None and camera.zone(zone_id) is None:
        raise NotFound(f"camera {camera_id!r} has no zone {zone_id!r}")
    session.commit()  # the model saves itself in a transaction of its own: hold no other write meanwhile

    def check() -> None:  # under the camera's lock: no frame can slip in between the check and the learning
        block = scene_blocker(session, camera, zone_id)
        session.commit()  # end the read: the model's own transaction follows
        if block is not None:
            raise Conflict(f"not learned as empty: {block.message(camera_id)}", reason=block.reason)

    if zone_id is None:
        done = scenes.clear_reference(camera_id, check)
    else:
        done = scenes.confirm_zone_clear(camera_id, zone_id, check)
    if not done:
        raise Conflict(f"camera {camera_id!r} has sent no frame yet: nothing to learn as clear", reason="no_frame")
    action, detail = (
        ("camera.clear_reference", "latest sample learned as the empty scene")
        if zone_id is None
        else ("zone.confirm_clear", f"zone {zone_id} learned as clear")
    )
    audit(session, who, action, "camera", camera_id, detail, ip)
    return {"ok": True, "camera": camera_id, "zone": zone_id, "static_objects": scenes.get(camera_id).status()}
