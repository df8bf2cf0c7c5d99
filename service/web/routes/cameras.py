"""Cameras: health and compound overview, and the zone editor (save validates, persists, applies live), drawn
over the camera's newest picture (`web/latest_view.py`); the latest view itself, scoped like evidence."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.actions.errors import ActionError, Forbidden, NotFound
from service.actions.fixtures import REVIEWERS as FIXTURE_REVIEWERS
from service.actions.hazards import READERS
from service.actions.scenes import OPERATORS as SCENE_OPERATORS
from service.actions.scenes import SceneBlock, scene_action, scene_blocks, visible_camera
from service.auth.audit import audit
from service.auth.keys import Principal
from service.auth.users import UserPrincipal
from service.config.arming import DAYS
from service.config.clock import utc_offset
from service.config.site import DEFAULT_CATEGORIES, DEFAULT_DWELL_SECONDS, Camera, Site, SiteConfigError, ZoneType
from service.deps import RuntimeDep, SessionDep, require
from service.runtime import Runtime
from service.store import models as m
from service.store.db import utcnow
from service.store.fixtures import camera_fixtures
from service.store.lifecycle import ACTIVE
from service.store.scope import can_see_compound, visible_compound_ids
from service.store.site_overrides import StaleEditError, current_revision, save_override
from service.web.config import WebSettings
from service.web.counts import cached_counts
from service.web.i18n import catalogue, language_of, translator
from service.web.latest_view import CameraView, best_view, page_views
from service.web.lifts_view import lift_rows
from service.web.pages import PageError, PersonDep, WebDep, csrf_guard, format_time, known_code, render, site_zone
from service.web.security import client_ip
from service.web.status import camera_health, compound_counts

router = APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(csrf_guard)])
EDITORS = ("property", "admin")
_save_lock = threading.Lock()  # one save at a time: each builds on the site the previous one applied
MAX_BODY = 256 * 1024
SCENE_ERRORS = ("no_frame", "forbidden", "invalid", "object_in_zone", "active_hazard", "no_zones", "static_objects_off")


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
    lifts, lift_peak = lift_rows(session, who, site, utcnow().astimezone(site.zone).date())
    return render(
        request,
        "cameras.html",
        nav="cameras",
        compounds=compounds,
        cameras=cameras,
        health=health,
        counts=counts,
        views=page_views(session, runtime.pipeline.latest, [c.id for c in cameras]),
        agencies={a.id: a.name for a in site.agencies},
        silent={a.id for a in site.agencies if not a.channels},  # told nothing: said so, not left to guess
        editable=who.role in EDITORS,
        unknown_devices=runtime.unknown_devices.listed() if who.role == "admin" else [],  # installers' business
        lifts=lifts,
        lift_peak=lift_peak,
    )


def _visible_camera(session: Session, runtime: Runtime, who: UserPrincipal, camera_id: str) -> Camera:
    try:
        return visible_camera(session, runtime.sites.current(), who, camera_id)
    except NotFound:
        raise PageError(404, "error.not_found") from None


def _arming_data(site: Site, camera: Camera, now: datetime) -> dict:
    """What the editor shows of the schedules: the camera's (zones inherit it), the site clock, armed now."""
    return {
        "camera": camera.arming.model_dump(mode="json") if camera.arming is not None else None,
        "timezone": site.timezone,
        "offset": utc_offset(now, site.zone),
        "holidays": [d.isoformat() for d in site.holidays],
        "days": list(DAYS),
        "now": format_time(now, site.zone),
        "armed_now": {z.id: camera.zone_armed(z.id, now) for z in camera.zones},
    }


def _editor_data(camera: Camera, view: CameraView | None, revision: int, editable: bool, site: Site) -> dict:
    return {
        "camera": camera.id,
        "revision": revision,
        "editable": editable,
        "frame": {"url": view.url, "w": view.width, "h": view.height} if view else None,
        "zones": [z.model_dump(mode="json") for z in camera.zones],
        "masks": [[list(p) for p in mask] for mask in camera.masks],
        "zone_types": [z.value for z in ZoneType],
        "categories": ["vehicle", "two_wheeler", "clutter"],
        "defaults": {
            z.value: {"dwell": DEFAULT_DWELL_SECONDS[z], "categories": list(DEFAULT_CATEGORIES[z])} for z in ZoneType
        },
        "save_url": f"/web/cameras/{camera.id}/zones",
        "arming": _arming_data(site, camera, datetime.now(UTC)),
    }


def _block_text(block: SceneBlock, camera: Camera, request: Request, web: WebSettings) -> str:
    """Why "learn the empty scene" is not offered now, in the page's language, with zone names."""
    lang = language_of(request, web)
    t, sep = translator(lang), "、" if lang == "zh" else ", "
    zones = sep.join((z.name or z.id) if (z := camera.zone(zone_id)) else zone_id for zone_id in block.zones)
    if block.reason == "object_in_zone":
        what = sep.join(t(f"category.{c}") for c in block.categories)
        time = format_time(block.frame_at, site_zone(request), True)
        return t("scene.blocked.object_in_zone", what=what, zones=zones, time=time)
    return t("scene.blocked.active_hazard", zones=zones)


@router.get("/cameras/{camera_id}", response_class=HTMLResponse)
def editor_page(
    camera_id: str, request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep, web: WebDep
) -> HTMLResponse:
    camera = _visible_camera(session, runtime, who, camera_id)
    view = best_view(session, runtime.pipeline.latest, camera_id)
    revision = current_revision(session, camera_id)
    open_count = session.scalar(
        select(func.count()).where(m.HazardEvent.camera_id == camera_id, m.HazardEvent.status.in_(ACTIVE))
    )
    scene = runtime.scenes.get(camera_id)
    data = _editor_data(camera, view, revision, who.role in EDITORS, runtime.sites.current())
    blocks = scene_blocks(session, camera) if scene is not None else []
    messages = catalogue(language_of(request, web))
    js_messages = {k: v for k, v in messages.items() if k.startswith(("editor.", "zone.", "shape.", "arming."))}
    return render(
        request,
        "editor.html",
        nav="cameras",
        camera=camera,
        view=view,
        data_json=json.dumps(data, ensure_ascii=False),
        messages_json=json.dumps(js_messages, ensure_ascii=False),
        zone_types=data["zone_types"],
        categories=data["categories"],
        editable=data["editable"],
        arming_zone=data["arming"]["timezone"],
        arming_offset=data["arming"]["offset"],
        revision=revision,
        open_count=open_count or 0,
        compound=runtime.sites.current().compound(camera.compound),
        scene=scene.status() if scene is not None else {"enabled": False},
        scene_off="" if scene is not None else _scene_off(camera),
        scene_blocks=[(b.reason, _block_text(b, camera, request, web)) for b in blocks],
        blocked_zones={z for b in blocks for z in b.zones},
        scene_last_at=scene.last_captured_at if scene is not None else None,
        can_operate=who.role in SCENE_OPERATORS,
        scene_done=known_code(request.query_params.get("scene_done"), ("clear_reference", "confirm_zone")),
        scene_zone=request.query_params.get("zone", "")[:64],
        scene_error=known_code(request.query_params.get("scene_error"), SCENE_ERRORS),
        fixtures=camera_fixtures(session, [camera_id], utcnow()),
        can_remove_fixtures=who.role in FIXTURE_REVIEWERS,
        fixture_done=request.query_params.get("fixture_done", "")
        if request.query_params.get("fixture_done", "").isdigit()
        else "",
        fixture_error=known_code(request.query_params.get("fixture_error"), ("forbidden", "conflict", "invalid")),
    )


def _scene_off(camera: Camera) -> str:
    """Why the camera has no unknown-object model (the card says so)."""
    if not camera.zones:
        return "no_zones"
    return "static_objects_off" if not camera.static_objects else "no_clutter_zones"


@router.get("/cameras/{camera_id}/view.jpg")
def camera_view(
    camera_id: str, session: SessionDep, runtime: RuntimeDep, who: Principal = Depends(require(*READERS))
) -> Response:
    """The camera's latest view (any frame, kept or not), for the people who may see its compound; audited."""
    camera = runtime.sites.current().camera(camera_id)
    if camera is None or not can_see_compound(session, who, camera.compound):
        raise HTTPException(404, "camera not found")
    found = runtime.pipeline.latest.read(camera_id) if runtime.pipeline.latest is not None else None
    if found is None:
        raise HTTPException(404, "no frame received from this camera yet")
    captured_at, data = found
    audit(session, who, "camera.view", "camera", camera_id, f"latest view of {captured_at.isoformat()}")
    headers = {"Cache-Control": "private, no-store", "X-Captured-At": captured_at.isoformat()}
    return Response(data, media_type="image/jpeg", headers=headers)


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
        codes = {Forbidden: "forbidden", NotFound: "invalid"}
        code = next((c for kind, c in codes.items() if isinstance(error, kind)), error.reason)
        code = code if code in SCENE_ERRORS else "no_frame"
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
