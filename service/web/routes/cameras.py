"""Cameras: health and compound overview, and the zone editor (save validates, persists, applies live)."""

from __future__ import annotations

import json
import threading

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.actions.errors import ActionError, Forbidden, NotFound
from service.actions.scenes import OPERATORS as SCENE_OPERATORS
from service.actions.scenes import scene_action, visible_camera
from service.auth.audit import audit
from service.auth.users import UserPrincipal
from service.config.site import DEFAULT_CATEGORIES, DEFAULT_DWELL_SECONDS, Camera, SiteConfigError, ZoneType
from service.deps import RuntimeDep, SessionDep
from service.runtime import Runtime
from service.store import models as m
from service.store.lifecycle import ACTIVE
from service.store.scope import visible_compound_ids
from service.store.site_overrides import StaleEditError, current_revision, save_override
from service.web.counts import cached_counts
from service.web.i18n import catalogue, language_of
from service.web.pages import PageError, PersonDep, WebDep, csrf_guard, known_code, render
from service.web.security import client_ip
from service.web.status import camera_health, compound_counts

router = APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(csrf_guard)])
EDITORS = ("property", "admin")
_save_lock = threading.Lock()  # one save at a time: each builds on the site the previous one applied
MAX_BODY = 256 * 1024


@router.get("/cameras", response_class=HTMLResponse)
def cameras_page(
    request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep, web: WebDep
) -> HTMLResponse:
    site = runtime.sites.current()
    visible = visible_compound_ids(session, who)
    cameras = [c for c in site.cameras if visible is None or c.compound in visible]
    health = camera_health(session, cameras, web, runtime.streams)
    counts = cached_counts(
        session, ("per-compound", who.role, who.agency_id), lambda: compound_counts(session, visible)
    )
    compounds = [c for c in site.compounds if visible is None or c.id in visible]
    return render(
        request,
        "cameras.html",
        nav="cameras",
        compounds=compounds,
        cameras=cameras,
        health=health,
        counts=counts,
        agencies={a.id: a.name for a in site.agencies},
        editable=who.role in EDITORS,
        unknown_devices=runtime.unknown_devices.listed() if who.role == "admin" else [],  # installers' business
    )


def _visible_camera(session: Session, runtime: Runtime, who: UserPrincipal, camera_id: str) -> Camera:
    try:
        return visible_camera(session, runtime.sites.current(), who, camera_id)
    except NotFound:
        raise PageError(404, "error.not_found") from None


def _editor_data(camera: Camera, frame: m.FrameRecord | None, revision: int, editable: bool) -> dict:
    return {
        "camera": camera.id,
        "revision": revision,
        "editable": editable,
        "frame": {"url": f"/web/frames/{frame.id}", "w": frame.width, "h": frame.height} if frame else None,
        "zones": [z.model_dump(mode="json") for z in camera.zones],
        "masks": [[list(p) for p in mask] for mask in camera.masks],
        "zone_types": [z.value for z in ZoneType],
        "categories": ["vehicle", "two_wheeler", "clutter"],
        "defaults": {
            z.value: {"dwell": DEFAULT_DWELL_SECONDS[z], "categories": list(DEFAULT_CATEGORIES[z])} for z in ZoneType
        },
        "save_url": f"/web/cameras/{camera.id}/zones",
    }


@router.get("/cameras/{camera_id}", response_class=HTMLResponse)
def editor_page(
    camera_id: str, request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep, web: WebDep
) -> HTMLResponse:
    camera = _visible_camera(session, runtime, who, camera_id)
    frame = session.scalars(
        select(m.FrameRecord)
        .where(m.FrameRecord.camera_id == camera_id, m.FrameRecord.image_path.is_not(None))
        .order_by(m.FrameRecord.captured_at.desc())
        .limit(1)
    ).first()
    revision = current_revision(session, camera_id)
    open_count = session.scalar(
        select(func.count()).where(m.HazardEvent.camera_id == camera_id, m.HazardEvent.status.in_(ACTIVE))
    )
    scene = runtime.scenes.get(camera_id)
    data = _editor_data(camera, frame, revision, who.role in EDITORS)
    messages = catalogue(language_of(request, web))
    js_messages = {k: v for k, v in messages.items() if k.startswith(("editor.", "zone.", "shape."))}
    return render(
        request,
        "editor.html",
        nav="cameras",
        camera=camera,
        frame=frame,
        data_json=json.dumps(data, ensure_ascii=False),
        messages_json=json.dumps(js_messages, ensure_ascii=False),
        zone_types=data["zone_types"],
        categories=data["categories"],
        editable=data["editable"],
        revision=revision,
        open_count=open_count or 0,
        compound=runtime.sites.current().compound(camera.compound),
        scene=scene.status() if scene is not None else {"enabled": False},
        scene_last_at=scene.last_captured_at if scene is not None else None,
        can_operate=who.role in SCENE_OPERATORS,
        scene_done=known_code(request.query_params.get("scene_done"), ("clear_reference", "confirm_zone")),
        scene_zone=request.query_params.get("zone", "")[:64],
        scene_error=known_code(request.query_params.get("scene_error"), ("no_frame", "forbidden", "invalid")),
    )


@router.post("/cameras/{camera_id}/clear-reference")
def clear_reference(
    camera_id: str, request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep
) -> RedirectResponse:
    """Form post: the camera's latest sample becomes the empty scene of its static-object model."""
    return _scene_action(request, session, runtime, who, camera_id, None)


@router.post("/cameras/{camera_id}/confirm-clear")
async def confirm_zone_clear(
    camera_id: str, request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep
) -> RedirectResponse:
    """Form post {zone}: the zone is confirmed clear; what it shows now is learned as empty."""
    form = await request.form(max_fields=5)
    zone = str(form.get("zone", ""))[:64]
    return await run_in_threadpool(_scene_action, request, session, runtime, who, camera_id, zone)


def _scene_action(
    request: Request, session: Session, runtime: Runtime, who: UserPrincipal, camera_id: str, zone: str | None
) -> RedirectResponse:
    """The domain's scene_action, answered with a redirect to the editor and a message code."""
    back = f"/web/cameras/{camera_id}"
    _visible_camera(session, runtime, who, camera_id)  # another compound's camera: 404, as every page
    try:
        scene_action(session, runtime.scenes, runtime.sites.current(), who, camera_id, zone, client_ip(request))
    except ActionError as error:
        code = "forbidden" if isinstance(error, Forbidden) else "invalid" if isinstance(error, NotFound) else "no_frame"
        return RedirectResponse(f"{back}?scene_error={code}", status_code=303)
    kind = "clear_reference" if zone is None else f"confirm_zone&zone={zone}"
    return RedirectResponse(f"{back}?scene_done={kind}", status_code=303)


@router.post("/cameras/{camera_id}/zones")
async def save_zones(camera_id: str, request: Request, runtime: RuntimeDep, who: PersonDep) -> JSONResponse:
    """JSON {revision, zones, masks} -> validated, stored, applied to the running pipeline, audited."""
    raw = await request.body()
    try:
        body = json.loads(raw) if len(raw) <= MAX_BODY else None
    except ValueError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("zones"), list) or not isinstance(body.get("masks"), list):
        return JSONResponse({"errors": ["body must be JSON {revision, zones: [...], masks: [...]}"]}, 400)
    revision = body.get("revision")
    if not isinstance(revision, int):
        return JSONResponse({"errors": ["revision must be the integer the editor was loaded with"]}, 400)
    ip = client_ip(request)

    def save() -> JSONResponse:
        with _save_lock:
            with runtime.db.session() as session:
                try:
                    camera = _visible_camera(session, runtime, who, camera_id)
                except PageError:
                    return JSONResponse({"errors": ["camera not found"]}, 404)
                if who.role not in EDITORS:
                    return JSONResponse({"errors": [f"role {who.role} may not edit zones"]}, 403)
                try:
                    saved = save_override(
                        session,
                        runtime.sites.current(),
                        camera.id,
                        body["zones"],
                        body["masks"],
                        who.actor,
                        revision,
                    )
                except SiteConfigError as exc:
                    lines = [ln.strip().replace("Value error, ", "") for ln in str(exc).splitlines()[1:]]
                    return JSONResponse({"errors": lines or [str(exc)]}, 422)
                except StaleEditError as exc:
                    return JSONResponse({"errors": [str(exc)], "stale": True}, 409)
                new = saved.site.camera(camera_id)
                summary = f"revision {saved.revision}: zones {[z.id for z in new.zones]}, {len(new.masks)} masks"
                audit(session, who, "zones.save", "camera", camera_id, summary, ip)
            runtime.sites.publish(saved.site)
            return JSONResponse({"ok": True, "revision": saved.revision, "zones": [z.id for z in new.zones]})

    return await run_in_threadpool(save)
