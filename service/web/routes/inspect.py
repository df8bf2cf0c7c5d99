"""The inspection page for people on site (phone first): photo, what and where, the model's proposal, fixed on
the spot. Recording goes through the domain layer's `record_inspection` (the same rules, routing and audit as
`POST /api/v1/hazards`); a refusal comes back as the same form with a message and what was typed kept.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from service.actions.errors import ActionError, Forbidden, NotFound, TooLarge
from service.actions.inspections import (
    INSPECTION_KINDS,
    INSPECTORS,
    MAX_DESCRIPTION,
    MAX_LOCATION,
    MAX_PHOTOS,
    Limits,
    form_of,
    record_inspection,
)
from service.auth.users import UserPrincipal
from service.deps import RuntimeDep, SessionDep
from service.runtime import Runtime
from service.store.scope import visible_compound_ids
from service.web.pages import PageError, PersonDep, render
from service.web.security import check_csrf

router = APIRouter(prefix="/web", include_in_schema=False)
FIELDS = ("kind", "compound", "location", "description", "camera", "zone", "boxes", "fixed_on_the_spot")
KNOWN_ERRORS = (
    "bad_kind",
    "unknown_compound",
    "bad_camera",
    "bad_zone",
    "missing_location",
    "too_long",
    "bad_boxes",
    "missing_photo",
    "too_many_photos",
    "not_an_image",
    "too_large",
    "missing_after_photo",
    "unexpected_after_photo",
)


def _choices(runtime: Runtime, session, who: UserPrincipal) -> dict:
    """The compounds this person may inspect, their cameras and zones (for the page's selects)."""
    site = runtime.sites.current()
    visible = visible_compound_ids(session, who)
    compounds = [c for c in site.compounds if visible is None or c.id in visible]
    ids = {c.id for c in compounds}
    cameras = [c for c in site.cameras if c.compound in ids]
    return {"compounds": compounds, "cameras": cameras, "kinds": [k.value for k in INSPECTION_KINDS]}


def _page(request: Request, runtime: Runtime, session, who: UserPrincipal, status: int = 200, **context) -> Response:
    if who.role not in INSPECTORS:
        raise PageError(403, "error.forbidden")
    values = {name: "" for name in FIELDS} | context.pop("values", {})
    context.setdefault("error", "")
    return render(
        request,
        "inspect.html",
        status=status,
        nav="inspect",
        values=values,
        max_photos=MAX_PHOTOS,
        max_location=MAX_LOCATION,
        max_description=MAX_DESCRIPTION,
        **_choices(runtime, session, who),
        **context,
    )


def _status(error: ActionError) -> int:
    if isinstance(error, NotFound):
        return 404
    if isinstance(error, Forbidden):
        return 403
    return 413 if isinstance(error, TooLarge) else 422


@router.get("/inspect", response_class=HTMLResponse)
def inspect_page(request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep) -> Response:
    return _page(request, runtime, session, who)


async def _files(form: FormData, name: str, limit: int) -> list[bytes]:
    uploads = [u for u in form.getlist(name) if isinstance(u, UploadFile) and u.filename]
    return [await u.read(limit + 1) for u in uploads]  # one byte over the limit is enough to refuse it


@router.post("/inspect")
async def record(request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep) -> Response:
    """Record the inspection and go to the new hazard's page; a refusal shows the form again, with why."""
    limit = runtime.settings.max_upload_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > (MAX_PHOTOS + 1) * limit + 64 * 1024:
        return _page(request, runtime, session, who, 413, error="too_large")
    try:
        form = await request.form(max_files=MAX_PHOTOS + 1, max_fields=len(FIELDS) + 4)
    except Exception:
        return _page(request, runtime, session, who, 400, error="too_many_photos")
    await check_csrf(request)  # the form is parsed above with room for every photo; this reads it again
    values = {name: value for name in FIELDS if isinstance(value := form.get(name), str)}
    photos = await _files(form, "photo", limit)
    after = await _files(form, "after_photo", limit)
    try:
        inspection = form_of(values)
        detail = await run_in_threadpool(
            record_inspection,
            session,
            runtime.writer,
            runtime.sites.current(),
            who,
            inspection,
            photos,
            Limits(limit, runtime.settings.max_pixels),
            after[0] if after else None,
        )
    except ActionError as error:
        session.rollback()
        code = error.reason if error.reason in KNOWN_ERRORS else "invalid"
        return _page(request, runtime, session, who, _status(error), error=code, values=values)
    return RedirectResponse(f"/web/hazards/{detail.id}", status_code=303)
