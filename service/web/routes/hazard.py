"""One hazard: evidence with overlay, first/latest frames, recipients and delivery, history, and the
actions. Actions go through the domain layer's `act_on_hazard` (the same roles, rules, history and audit as
the API), whose errors come back here as messages on the page.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from service.actions.errors import ActionError, Conflict, Forbidden, Invalid, NotFound
from service.actions.fixtures import REVIEWERS
from service.actions.hazards import (
    DISMISS_REASONS,
    REJECT_REASONS,
    HazardCommand,
    act_on_hazard,
    available,
    load_visible,
)
from service.actions.proof import save_after_photo
from service.actions.undo import offers, undo
from service.actions.views import HazardDetail
from service.auth.users import UserPrincipal
from service.deps import RowId, RuntimeDep, SessionDep
from service.runtime import Runtime
from service.store import models as m
from service.store.db import utcnow
from service.store.lifecycle import ACTIVE
from service.store.queries import box_in_frame, neighbour
from service.web.history import history_rows
from service.web.pages import PageError, PersonDep, WebDep, csrf_guard, history_words, known_code, render
from service.web.views import deadline, deliveries, duration_s, escalated_to, names, open_for_s, queue_state, zone_of

router = APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(csrf_guard)])
PAGE_ACTIONS = (
    "confirm",
    "dismiss",
    "acknowledge",
    "rectify",
    "note",
    "accept",
    "reject",
    "dispute",
    "release",
    "undo",
)
NEXT_AFTER = ("confirm", "dismiss")  # triage: these move on to the next hazard in the queue
ERRORS = ("forbidden", "conflict", "invalid", "photo_missing", "photo_invalid", "photo_too_large", "undo_expired")


def visible_hazard(session: Session, who: UserPrincipal, hazard_id: int) -> m.HazardEvent:
    try:
        return load_visible(session, who, hazard_id)
    except NotFound:
        raise PageError(404, "error.not_found") from None


def _frame(session, frame_id: str | None, hazard: m.HazardEvent) -> dict | None:
    frame = session.get(m.FrameRecord, frame_id) if frame_id else None
    if frame is None:
        return None
    return {
        "id": frame.id,
        "at": frame.captured_at,
        "w": frame.width,
        "h": frame.height,
        "image": frame.image_path is not None,
        "box": box_in_frame(session, hazard, frame.id),
    }


@router.get("/hazards/{hazard_id}", response_class=HTMLResponse)
def hazard_page(
    hazard_id: RowId, request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep, web: WebDep
) -> HTMLResponse:
    site = runtime.sites.current()
    state = queue_state(dict(request.query_params), site.zone)
    hazard = visible_hazard(session, who, hazard_id)
    detail = HazardDetail.of(hazard).for_page()
    evidence_frame = next((e.frame_id for e in hazard.evidence if e.kind == "original"), hazard.latest_frame_id)
    frames = {
        "evidence": _frame(session, evidence_frame, hazard),
        "first": _frame(session, hazard.first_frame_id, hazard),
        "latest": _frame(session, hazard.latest_frame_id, hazard),
        "cleared": _frame(session, hazard.cleared_frame_id, hazard),
    }
    previous_id = neighbour(session, who, state.filters, state.order, hazard.id, -1)
    next_id = neighbour(session, who, state.filters, state.order, hazard.id, 1)
    delivery = deliveries(session, hazard.id)
    actions = available(hazard, who.role)
    seconds = duration_s(hazard)
    times = {
        "first_seen": hazard.first_seen_at,
        "opened": hazard.opened_at,
        "last_seen": hazard.last_seen_at,
        "closed": hazard.closed_at,
    }
    shown = names(site)
    now = utcnow()
    zone = zone_of(site, hazard.camera_id, hazard.zone_key)
    kinds = {e["kind"] for e in detail["evidence"]}
    return render(
        request,
        "hazard.html",
        nav="queue",
        h=detail,
        hazard_id=hazard_id,
        state=state,
        q=state.query(),
        frames=frames,
        zone=zone,
        kinds=kinds,
        after_photos=[e for e in detail["evidence"] if e["kind"].startswith("after-")],
        previous_id=previous_id,
        next_id=next_id,
        delivery=delivery,
        actions=actions,
        reasons=DISMISS_REASONS,
        reject_reasons=REJECT_REASONS,
        duration_s=seconds,
        times=times,
        history=history_rows(hazard, history_words(request, shown)),
        names=shown,
        silent={a.id for a in site.agencies if not a.channels},
        escalation=escalated_to(session, [hazard.id]).get(hazard.id),
        open_for=open_for_s(hazard, now),
        flash=known_code(request.query_params.get("done"), (*PAGE_ACTIONS, "photo", "fixture")),
        can_mark_fixture=who.role in REVIEWERS and hazard.camera_id is not None and hazard.status in ACTIVE,
        flash_id=request.query_params.get("done_id", "") if request.query_params.get("done_id", "").isdigit() else "",
        error=known_code(request.query_params.get("error"), ERRORS),
        verified=frames["cleared"] if detail["status"] != "dismissed" else None,
        deadline=deadline(hazard, now),
        undo=offers(
            session, who, (hazard_id, request.query_params.get("done_id")), now, runtime.settings.undo_window_s
        ),
    )


@router.post("/hazards/{hazard_id}/{action}")
async def act(
    hazard_id: RowId,
    action: str,
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    who: PersonDep,
    web: WebDep,
) -> RedirectResponse:
    """Form posts for every action; the result is shown on the page the browser is sent to next."""
    if action not in (*PAGE_ACTIONS, "photo"):
        raise PageError(404, "error.not_found")
    form = await request.form(max_files=2, max_fields=20)
    state = queue_state(dict(parse_qsl(str(form.get("queue", ""))[:2000])), runtime.sites.current().zone)
    back = f"/web/hazards/{hazard_id}?{state.query()}"
    photo = form.get("photo")
    has_photo = photo is not None and not isinstance(photo, str) and bool(photo.filename)
    if action == "photo":
        if not has_photo:
            return RedirectResponse(f"{back}&error=photo_missing", status_code=303)
        problem = await _save_photo(runtime, session, who, hazard_id, photo)
        return RedirectResponse(f"{back}&{f'error={problem}' if problem else 'done=photo'}", status_code=303)
    try:
        command = HazardCommand(
            note=str(form.get("note", "")), reason=form.get("reason") or None, severity=form.get("severity") or None
        )
    except ValidationError:
        return RedirectResponse(f"{back}&error=invalid", status_code=303)
    try:
        if action == "undo":
            await run_in_threadpool(undo, session, runtime.writer, who, hazard_id, runtime.settings.undo_window_s)
        else:
            await run_in_threadpool(
                act_on_hazard, session, runtime.writer, runtime.scenes, who, hazard_id, action, command
            )
    except ActionError as error:
        return RedirectResponse(f"{back}&error={error_code(session, error)}", status_code=303)
    if action == "rectify" and has_photo:
        problem = await _save_photo(runtime, session, who, hazard_id, photo)
        if problem:
            return RedirectResponse(f"{back}&done=rectify&done_id={hazard_id}&error={problem}", status_code=303)
    if action in NEXT_AFTER:
        following = await run_in_threadpool(neighbour, session, who, state.filters, state.order, hazard_id, 1)
        if following is not None:
            return RedirectResponse(
                f"/web/hazards/{following}?{state.query(done=action, done_id=hazard_id)}", status_code=303
            )
    return RedirectResponse(f"{back}&done={action}&done_id={hazard_id}", status_code=303)


def error_code(session: Session, error: ActionError) -> str:
    """The page's message code for a refused action (nothing it started is kept); 404 stays a 404 page."""
    session.rollback()
    if isinstance(error, NotFound):
        raise PageError(404, "error.not_found")
    if isinstance(error, Forbidden):
        return "forbidden"
    if isinstance(error, Conflict):
        return error.reason if error.reason in ERRORS else "conflict"
    return error.reason if isinstance(error, Invalid) and error.reason in ERRORS else "invalid"


async def _save_photo(
    runtime: Runtime, session: Session, who: UserPrincipal, hazard_id: int, upload: UploadFile
) -> str | None:
    """Store an after photo; the error code to show, or None."""
    data = await upload.read(runtime.settings.max_upload_bytes + 1)
    settings = runtime.settings
    try:
        await run_in_threadpool(
            save_after_photo,
            session,
            runtime.writer,
            who,
            hazard_id,
            data,
            settings.max_upload_bytes,
            settings.max_pixels,
        )
    except ActionError as error:
        return error_code(session, error)
    return None
