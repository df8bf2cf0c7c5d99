"""Inspections on site through the API: `POST /api/v1/hazards` records one (multipart, photos and all) and
`POST /api/v1/hazards/propose` asks the model what a photo shows. The rules live in service/actions/inspections.py.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from service.actions.inspections import (
    MAX_PHOTOS,
    Limits,
    Proposal,
    form_of,
    propose,
    record_inspection,
)
from service.actions.views import HazardDetail
from service.api.routes.frames import Rejection, read_capped
from service.deps import PrincipalDep, RuntimeDep, SessionDep
from service.runtime import Runtime

router = APIRouter(prefix="/api/v1/hazards", tags=["inspections"])
TEXT_FIELDS = ("kind", "compound", "location", "description", "camera", "zone", "boxes", "fixed_on_the_spot")


async def _form(request: Request, runtime: Runtime, files: int) -> FormData:
    """The multipart body, read under a cap of `files` uploads of the frame limit each (413 beyond)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        raise Rejection(415, "unsupported_media_type", "send multipart/form-data with the photos as files")
    request._body = await read_capped(request, files * runtime.settings.max_upload_bytes + 64 * 1024)
    try:
        return await request.form(max_files=files, max_fields=len(TEXT_FIELDS) + 4)
    except Exception:
        raise Rejection(400, "bad_multipart", f"multipart body could not be parsed (at most {files} files)") from None


async def _files(form: FormData, name: str) -> list[bytes]:
    uploads = [u for u in form.getlist(name) if isinstance(u, UploadFile)]
    if any(isinstance(u, str) and u for u in form.getlist(name)):
        raise Rejection(422, "not_a_file", f"field {name!r} must be a file upload")
    return [await u.read() for u in uploads if u.filename or u.size]


def _limits(runtime: Runtime) -> Limits:
    return Limits(runtime.settings.max_upload_bytes, runtime.settings.max_pixels)


@router.post("/propose", response_model=Proposal)
async def propose_kind(request: Request, runtime: RuntimeDep, who: PrincipalDep) -> Proposal:
    """What the model finds on a photo (field `photo`; optional `zone_type`): a proposed kind and its boxes
    (x1, y1, x2, y2 in pixels), to confirm or correct before recording. Nothing is stored."""
    form = await _form(request, runtime, 1)
    photos = await _files(form, "photo")
    if not photos:
        raise Rejection(422, "missing_photo", "send the photo as a file field named 'photo'")
    zone_type = form.get("zone_type")
    zone_type = zone_type.strip() if isinstance(zone_type, str) else None
    return await run_in_threadpool(propose, runtime.pool, who, photos[0], _limits(runtime), zone_type)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=HazardDetail)
async def record(request: Request, runtime: RuntimeDep, session: SessionDep, who: PrincipalDep) -> HazardDetail:
    """Record a hazard found on site: `photo` (1 to 6 files; the first is the evidence), `kind`, `compound`,
    `location`, optional `description`, `camera`, `zone`, `boxes` (JSON [[x1, y1, x2, y2], ...] in pixels of
    the first photo), `fixed_on_the_spot` (true) with `after_photo`. Routed, delivered and escalated like any
    hazard; fixed on the spot it is stored already rectified."""
    form = await _form(request, runtime, MAX_PHOTOS + 1)
    fields = {name: value for name in TEXT_FIELDS if isinstance(value := form.get(name), str)}
    photos = await _files(form, "photo")
    after = await _files(form, "after_photo")
    if len(after) > 1:
        raise Rejection(422, "too_many_photos", "one after photo at most")
    inspection = form_of(fields)
    site = runtime.sites.current()
    return await run_in_threadpool(
        record_inspection,
        session,
        runtime.writer,
        site,
        who,
        inspection,
        photos,
        _limits(runtime),
        after[0] if after else None,
    )
