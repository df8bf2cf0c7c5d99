"""Rendering pages: the Jinja2 environment (autoescaped), the context every page gets, the security
headers, and the page-level errors (login needed, not found, refused) with their handlers.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from service.auth.sessions import ActiveSession
from service.auth.users import UserPrincipal
from service.config.clock import site_time
from service.web.config import LANGUAGES, WebSettings
from service.web.history import HistoryWords, Names
from service.web.i18n import catalogue, language_of, translator
from service.web.security import PAGE_HEADERS, CsrfError, check_csrf

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
ASSET_VERSION = hashlib.sha256(
    b"".join(p.read_bytes() for p in sorted(STATIC_DIR.glob("*")) if p.is_file())
).hexdigest()[:10]
_env = Environment(
    loader=FileSystemLoader(WEB_DIR / "templates"),
    autoescape=select_autoescape(["html"], default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


class LoginRequired(Exception):
    """A page asked for without a valid session: go to the login page, then come back."""


class PageError(Exception):
    """An error shown as a page: 403, 404, 409... with a catalogue key for its message."""

    def __init__(self, status: int, key: str, detail: str = "") -> None:
        super().__init__(key)
        self.status, self.key, self.detail = status, key, detail


def web_settings(request: Request) -> WebSettings:
    return request.app.state.web_settings


def person(request: Request) -> UserPrincipal:
    """The logged-in person (dependency for every page); redirects to login otherwise."""
    active: ActiveSession | None = getattr(request.state, "web_session", None)
    if active is None:
        raise LoginRequired()
    return active.principal


WebDep = Annotated[WebSettings, Depends(web_settings)]
PersonDep = Annotated[UserPrincipal, Depends(person)]


async def csrf_guard(request: Request) -> None:
    """Router-wide: every state-changing page request must carry the session's CSRF token."""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        await check_csrf(request)


def known_code(value: str | None, allowed: tuple[str, ...]) -> str:
    """A message code from the query string, only if it is one of ours (never echo arbitrary input)."""
    return value if value in allowed else ""


def site_zone(request: Request) -> ZoneInfo:
    """The one clock of every page: the site file's time zone (the same the reports and evidence use)."""
    return request.app.state.runtime.sites.current().zone


def format_time(value: datetime | None, zone: ZoneInfo, seconds: bool = False) -> str:
    """Site time with its UTC offset, e.g. `2026-12-02 10:15 +08:00`: a reader never has to guess the zone."""
    return site_time(value, zone, seconds)


def format_duration(seconds: float, t: object) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return t("duration.s", s=int(seconds))  # type: ignore[operator]
    if minutes < 60:
        return t("duration.m", m=minutes)  # type: ignore[operator]
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return t("duration.hm", h=hours, m=minutes)  # type: ignore[operator]
    return t("duration.dh", d=hours // 24, h=hours % 24)  # type: ignore[operator]


def history_words(request: Request, names: Names) -> HistoryWords:
    """What a hazard's history needs to be read in this reader's language and the site's clock."""
    lang = language_of(request, web_settings(request))
    zone, t = site_zone(request), translator(lang)
    return HistoryWords(lang, t, names, lambda v, s=False: format_time(v, zone, s), lambda s: format_duration(s, t))


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    web = web_settings(request)
    zone = site_zone(request)
    lang = language_of(request, web)
    t = translator(lang)
    active: ActiveSession | None = getattr(request.state, "web_session", None)
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    base = {
        "t": t,
        "tl": lambda prefix, value: catalogue(lang).get(f"{prefix}.{value}", str(value)),
        "lang": lang,
        "languages": LANGUAGES,
        "user": active.principal if active else None,
        "csrf": active.csrf_token if active else "",
        "here": quote(here, safe="/"),
        "asset_version": ASSET_VERSION,
        "when": lambda value, seconds=False: format_time(value, zone, seconds),
        "duration": lambda seconds: format_duration(seconds, t),
        "tz": zone.key,
        "nav": "",
    }
    html = _env.get_template(template).render(base | context)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def safe_next(value: str | None) -> str:
    """Only local page paths: never an open redirect to another site."""
    if value and value.startswith(("/web/", "/report")) and not value.startswith("//") and "\\" not in value:
        return value
    return "/web/hazards"


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, _: LoginRequired) -> RedirectResponse:
        here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/web/login?next={quote(here, safe='')}", status_code=303)

    @app.exception_handler(PageError)
    async def _page_error(request: Request, exc: PageError) -> HTMLResponse:
        return render(request, "error.html", status=exc.status, code=exc.status, key=exc.key, detail=exc.detail)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, _: CsrfError) -> HTMLResponse | JSONResponse:
        if request.headers.get("x-csrf-token") is not None or "json" in request.headers.get("accept", ""):
            return JSONResponse({"detail": {"reason": "csrf", "message": "CSRF token missing or wrong"}}, 403)
        return render(request, "error.html", status=403, code=403, key="error.csrf", detail="")
