"""Fixture marks from the pages: a reviewer marks a hazard's object as a fixture (hazard page) or ends a mark
(zone editor). Mounted before the hazard page's router: `/hazards/{id}/fixture` is not a lifecycle action."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from service.actions.errors import ActionError
from service.actions.fixtures import FixtureCommand, mark_fixture, remove_fixture
from service.deps import RowId, RuntimeDep, SessionDep
from service.store.db import utcnow
from service.web.pages import PersonDep, csrf_guard
from service.web.routes.hazard import error_code

CAMERA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
router = APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(csrf_guard)])


@router.post("/hazards/{hazard_id}/fixture")
async def mark(hazard_id: RowId, request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep):
    """The hazard page's "mark as a permanent fixture" form."""
    form = await request.form(max_files=0, max_fields=10)
    back = f"/web/hazards/{hazard_id}"
    try:
        command = FixtureCommand(days=str(form.get("days", "90")), note=str(form.get("note", "")))
    except ValidationError:
        return RedirectResponse(f"{back}?error=invalid", status_code=303)
    try:
        await run_in_threadpool(mark_fixture, session, runtime.writer, who, hazard_id, command, utcnow())
    except ActionError as error:
        return RedirectResponse(f"{back}?error={error_code(session, error)}", status_code=303)
    return RedirectResponse(f"{back}?done=fixture&done_id={hazard_id}", status_code=303)


@router.post("/fixtures/{fixture_id}/remove")
async def remove(fixture_id: RowId, request: Request, session: SessionDep, who: PersonDep):
    """The zone editor's "end this mark" button; back to the camera's editor."""
    form = await request.form(max_files=0, max_fields=10)
    camera = str(form.get("camera", ""))[:64]
    back = (
        f"/web/cameras/{camera}"
        if camera.replace("-", "").replace("_", "").replace(".", "").isalnum()
        else "/web/cameras"
    )
    try:
        await run_in_threadpool(remove_fixture, session, who, fixture_id, utcnow())
    except ActionError as error:
        return RedirectResponse(f"{back}?fixture_error={error_code(session, error)}", status_code=303)
    return RedirectResponse(f"{back}?fixture_done={fixture_id}", status_code=303)
