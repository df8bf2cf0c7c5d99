"""The public report page (举报): /report for residents, no login. It files through the same domain function
as Open311 (`file_report`: the same checks, rate limits and storage) and shows the tracking code;
/report/track?code=... shows a report's public status, never contact data nor the photo.

No session is read here (service/web/security.py `is_public`), so a form post carries no one's authority and
needs no CSRF token; the form is limited per client address and per compound instead.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.actions.errors import ActionError, NotFound
from service.actions.report_limits import RateLimited, limits_of
from service.actions.report_views import find_report, public_request
from service.actions.reports import REPORTABLE, Filing, ReportForm, file_report, normalise_code
from service.deps import RuntimeDep
from service.runtime import Runtime
from service.web.i18n import language_of
from service.web.pages import render
from service.web.security import client_ip

public = APIRouter(include_in_schema=False)
FIELD_CAP = 64 * 1024
KNOWN_ERRORS = (
    "unknown_service_code",
    "missing_description",
    "description_too_long",
    "field_too_long",
    "missing_compound",
    "unknown_compound",
    "missing_location",
    "bad_email",
    "bad_lat_long",
    "too_large",
    "too_many_pixels",
    "too_small",
    "not_an_image",
    "unsupported_format",
    "rate_limited",
    "bad_form",
)


def _form_page(request: Request, runtime: Runtime, status: int = 200, **context: object) -> HTMLResponse:
    site = runtime.sites.current()
    values = context.pop("values", None) or ReportForm()
    context.setdefault("error", "")
    return render(
        request,
        "report.html",
        status=status,
        nav="report",
        kinds=[k.value for k in REPORTABLE],
        compounds=[(c.id, c.name) for c in site.compounds],
        values=values,
        max_description=runtime.settings.reports.max_description,
        **context,
    )


@public.get("/report", response_class=HTMLResponse)
def report_form(request: Request, runtime: RuntimeDep) -> HTMLResponse:
    return _form_page(request, runtime)


def _file(runtime: Runtime, filing: Filing, form: ReportForm, media: bytes | None) -> str:
    with runtime.db.session() as session:
        return file_report(session, runtime.writer, filing, form, media, datetime.now(UTC)).tracking_code


async def _read(request: Request, limit: int) -> tuple[ReportForm, bytes | None]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit + FIELD_CAP:
        raise ActionError("the form is too large", reason="too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit + FIELD_CAP:
            raise ActionError("the form is too large", reason="too_large")
        chunks.append(chunk)
    request._body = b"".join(chunks)  # Starlette parses the form from the bytes already read (and capped)
    try:
        form = await request.form(max_files=1, max_fields=30)
    except Exception:
        raise ActionError("the form could not be read", reason="bad_form") from None
    photo = form.get("media")
    media = await photo.read() if photo is not None and not isinstance(photo, str) and photo.filename else None
    return ReportForm.of(dict(form.items())), (media or None)


@public.post("/report", response_model=None)
async def report_submit(request: Request, runtime: RuntimeDep) -> Response:
    """File the report; the browser is sent on to its tracking page, or the form comes back with the reason."""
    settings = runtime.settings.reports
    form = ReportForm()
    try:
        form, media = await _read(request, settings.max_media_bytes)
        limits = limits_of(request.app.state)
        filing = Filing(runtime.sites.current(), settings, limits, runtime.settings.max_pixels, client_ip(request))
        code = await run_in_threadpool(_file, runtime, filing, form, media)
    except ActionError as error:
        reason = error.reason if error.reason in KNOWN_ERRORS else "invalid"
        status = {"rate_limited": 429, "too_large": 413, "too_many_pixels": 413}.get(reason, 422)
        page = _form_page(request, runtime, status, values=form, error=reason)
        if isinstance(error, RateLimited):
            page.headers["Retry-After"] = str(error.retry_after)
        return page
    return RedirectResponse(f"/report/track?code={quote(code)}&new=1", status_code=303)


def _public(runtime: Runtime, code: str, lang: str) -> dict:
    with runtime.db.session() as session:
        return public_request(find_report(session, code), runtime.sites.current(), lang)


@public.get("/report/track", response_class=HTMLResponse)
def report_track(request: Request, runtime: RuntimeDep, code: str = "") -> HTMLResponse:
    code = normalise_code(code)
    if not code:
        return render(request, "report_track.html", nav="report", code="", found=None, new=False, times={})
    lang = language_of(request, request.app.state.web_settings)
    try:
        found = _public(runtime, code, lang)
    except NotFound:
        return render(
            request, "report_track.html", status=404, nav="report", code=code, found=None, new=False, times={}
        )
    new = request.query_params.get("new") == "1"
    times = {
        k: datetime.fromisoformat(found[k]) if found[k] else None for k in ("requested_datetime", "expected_datetime")
    }
    return render(request, "report_track.html", nav="report", code=code, found=found, new=new, times=times)
