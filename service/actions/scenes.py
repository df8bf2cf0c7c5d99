"""What operators may tell a camera's scene (unknown-object) model: the whole latest picture is the clear
scene, or one zone is confirmed clear. Checked by role and compound, audited."""

from __future__ import annotations

from sqlalchemy.orm import Session

from service.actions.errors import Conflict, Forbidden, NotFound
from service.auth.audit import audit
from service.auth.keys import Principal
from service.config.site import Camera, Site
from service.scene.scenes import StaticScenes
from service.store.scope import can_see_compound

OPERATORS = ("property", "police", "admin")


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
    Conflict (no model, or no frame yet) say why it was not done; returns the model's status."""
    if who.role not in OPERATORS:
        raise Forbidden(f"role {who.role!r} may not change the scene model (needs {OPERATORS})")
    camera = visible_camera(session, site, who, camera_id)
    if scenes.get(camera_id) is None:
        raise Conflict(f"camera {camera_id!r} has no static-object model (static_objects off or no zones)")
    if zone_id is not None and camera.zone(zone_id) is None:
        raise NotFound(f"camera {camera_id!r} has no zone {zone_id!r}")
    session.commit()  # the model saves itself in a transaction of its own: hold no other write meanwhile
    done = scenes.clear_reference(camera_id) if zone_id is None else scenes.confirm_zone_clear(camera_id, zone_id)
    if not done:
        raise Conflict(f"camera {camera_id!r} has sent no frame yet: nothing to learn as clear", reason="no_frame")
    action, detail = (
        ("camera.clear_reference", "latest sample learned as the empty scene")
        if zone_id is None
        else ("zone.confirm_clear", f"zone {zone_id} learned as clear")
    )
    audit(session, who, action, "camera", camera_id, detail, ip)
    return {"ok": True, "camera": camera_id, "zone": zone_id, "static_objects": scenes.get(camera_id).status()}
