"""Open311 GeoReport v2 for residents' reports: public (no key), JSON or XML by the path's suffix.

    GET  /open311/v2/services.{json,xml}           the service list (one service per reportable kind)
    GET  /open311/v2/services/{code}.{json,xml}    one service's definition (no extra attributes)
    POST /open311/v2/requests.{json,xml}           file a report (form-encoded, or multipart with `media`)
    GET  /open311/v2/requests/{id}.{json,xml}      one report by its tracking code
    GET  /open311/v2/requests.{json,xml}           accepted reports (public fields), newest first

Answers never carry contact data nor media. Errors are Open311's list of {code, description} (plus a
stable `reason`), or <errors><error> in XML. Filing is rate-limited per client address and per compound.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from service.actions.errors import ActionError, Invalid, NotFound
from service.actions.report_limits import RateLimited, limits_of
from service.actions.report_views import (
    SERVICES,
    PublicFilters,
    find_report,
    public_reports,
    public_request,
    service_list,
)
from service.actions.reports import Filing, MediaRejected, ReportForm, file_report
from service.api.errors import status_of
from service.api.routes.frames import Rejection, read_capped
from service.deps import RuntimeDep
from service.runtime import Runtime


class Open311ErrorItem(BaseModel):
    code: int
    description: str
    reason: str


_OPEN311_ERRORS = {400: "unreadable", 404: "unknown format, service or request", 413: "too large", 422: "refused field"}
OPEN311_ERRORS: dict[int | str, dict] = {
    code: {"model": list[Open311ErrorItem], "description": f"Open311 error list: {what}"}
    for code, what in _OPEN311_ERRORS.items()
}
router = APIRouter(prefix="/open311/v2", tags=["open311"], responses=OPEN311_ERRORS)
FORMATS = ("json", "xml")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
FIELD_CAP = 64 * 1024  # the text fields of a request, beyond its photo
NO_STORE = {"Cache-Control": "no-store"}


class Open311Error(Exception):
    def __init__(self, status: int, reason: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.reason, self.message, self.headers = status, reason, message, headers or {}


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _xml(root: str, item: str, rows: list[dict]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        element = ET.SubElement(top, item)
        for key, value in row.items():
            ET.SubElement(element, key).text = _text(value)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def answer(fmt: str, rows: list[dict], root: str, item: str, status: int = 200, headers: dict | None = None):
    if fmt == "xml":
        return Response(_xml(root, item, rows), status, headers=headers, media_type="application/xml")
    return JSONResponse(rows, status, headers=headers)


def error_answer(fmt: str, error: Open311Error) -> Response:
    row = {"code": error.status, "description": error.message, "reason": error.reason}
    return answer(fmt if fmt in FORMATS else "json", [row], "errors", "error", error.status, error.headers)


def _from_action(error: ActionError) -> Open311Error:
    if isinstance(error, RateLimited):
        return Open311Error(429, error.reason, error.message, {"Retry-After": str(error.retry_after)})
    if isinstance(error, MediaRejected) and error.reason in ("too_large", "too_many_pixels"):
        return Open311Error(413, error.reason, error.message)
    return Open311Error(status_of(error), error.reason, error.message)


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Open311Error(404, "unknown_format", f"format {fmt[:10]!r} is not served: use .json or .xml")
    return fmt


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh"


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, "bad_date", f"{name} is not ISO 8601 (e.g. 2026-05-01T00:00:00+08:00)") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


@router.get("/services.{fmt}")
def services(fmt: str, request: Request) -> Response:
    try:
        return answer(_format(fmt), service_list(_lang(request)), "services", "service")
    except Open311Error as error:
        return error_answer(fmt, error)


@router.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: str) -> Response:
    """No service needs extra attributes (metadata false): the definition lists none."""
    try:
        _format(fmt)
        if code not in {k.value for k in SERVICES}:
            raise Open311Error(404, "unknown_service_code", f"no service {code[:64]!r}")
        if fmt == "xml":
            top = ET.Element("service_definition")
            ET.SubElement(top, "service_code").text = code
            ET.SubElement(top, "attributes")
            return Response(ET.tostring(top, encoding="utf-8", xml_declaration=True), media_type="application/xml")
        return JSONResponse({"service_code": code, "attributes": []})
    except Open311Error as error:
        return error_answer(fmt, error)


async def _read_form(request: Request, media_limit: int) -> tuple[dict[str, object], bytes | None]:
    """The text fields and the `media` file of a form post, the body capped before parsing."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in FORM_TYPES:
        raise Open311Error(415, "unsupported_media_type", "send application/x-www-form-urlencoded or multipart")
    try:
        request._body = await read_capped(request, media_limit + FIELD_CAP)  # Starlette parses these bytes
    except Rejection as rejection:
        raise Open311Error(rejection.status_code, rejection.reason, rejection.detail["message"]) from None
    try:
        form = await request.form(max_files=1, max_fields=30)
    except Exception:
        raise Open311Error(400, "bad_form", "the form body could not be parsed") from None
    fields = {name: value for name, value in form.items() if isinstance(value, str)}
    upload = form.get("media")
    media = None
    if upload is not None and not isinstance(upload, str) and upload.filename:
        media = await upload.read()
        if not media:
            raise Open311Error(422, "empty", "the media file is empty")
    return fields, media


def _file(runtime: Runtime, filing: Filing, form: ReportForm, media: bytes | None) -> str:
    with runtime.db.session() as session:
        return file_report(session, runtime.writer, filing, form, media, datetime.now(UTC)).tracking_code


@router.post("/requests.{fmt}", status_code=201)
async def create_request(fmt: str, request: Request, runtime: RuntimeDep) -> Response:
    """File a report. Fields: service_code, description, compound, address_string or lat+long, optional
    first_name, last_name, email, phone, media_url (kept as text, never fetched) and a `media` photo."""
    try:
        _format(fmt)
        settings = runtime.settings.reports
        fields, media = await _read_form(request, settings.max_media_bytes)
        client = request.client.host if request.client else ""
        limits = limits_of(request.app.state)
        filing = Filing(runtime.sites.current(), settings, limits, runtime.settings.max_pixels, client)
        code = await run_in_threadpool(_file, runtime, filing, ReportForm.of(fields), media)
    except ActionError as error:
        return error_answer(fmt, _from_action(error))
    except Open311Error as error:
        return error_answer(fmt, error)
    notice = "已收到，审核后转交责任单位 / received: it goes to the responsible unit once reviewed"
    row = {"service_request_id": code, "service_notice": notice, "account_id": None}
    return answer(fmt, [row], "service_requests", "request", 201, NO_STORE)


def _one(runtime: Runtime, code: str, lang: str) -> dict:
    with runtime.db.session() as session:
        return public_request(find_report(session, code), runtime.sites.current(), lang)


@router.get("/requests/{code}.{fmt}")
def get_request(code: str, fmt: str, request: Request, runtime: RuntimeDep) -> Response:
    try:
        _format(fmt)
        row = _one(runtime, code, _lang(request))
    except NotFound as error:
        return error_answer(fmt, Open311Error(404, error.reason, error.message))
    except Open311Error as error:
        return error_answer(fmt, error)
    return answer(fmt, [row], "service_requests", "request", headers=NO_STORE)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())[:50]


@router.get("/requests.{fmt}")
def list_requests(fmt: str, request: Request, runtime: RuntimeDep) -> Response:
    """Accepted reports only; filters service_request_id, service_code (comma-separated), status (open,
    closed), start_date, end_date (ISO 8601, on requested_datetime); at most CLEARWAY_REPORTS_LIST_LIMIT."""
    params = request.query_params
    try:
        _format(fmt)
        status = params.get("status") or None
        if status not in (None, "open", "closed"):
            raise Invalid("status is open or closed", reason="bad_status")
        filters = PublicFilters(
            service_codes=_split(params.get("service_code")),
            status=status,
            start=_date(params.get("start_date"), "start_date"),
            end=_date(params.get("end_date"), "end_date"),
            codes=_split(params.get("service_request_id")),
        )
        with runtime.db.session() as session:
            found = public_reports(session, filters, runtime.settings.reports.list_limit)
            site, lang = runtime.sites.current(), _lang(request)
            rows = [public_request(report, site, lang) for report in found]
    except ActionError as error:
        return error_answer(fmt, Open311Error(400, error.reason, error.message))
    except Open311Error as error:
        return error_answer(fmt, error)
    return answer(fmt, rows, "service_requests", "request", headers=NO_STORE)
