"""Log in, log out, language switch.

The login form is protected by a double-submit token (a cookie and a form field that must match) because
there is no session yet; everything after login uses the session's own CSRF token. Failed sign-ins are limited
per attempted name and per client address (service/auth/login_limits.py): both answer 429 with Retry-After.
"""

from __future__ import annotations

import math
import secrets
from datetime import datetime

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from service.auth.audit import audit
from service.auth.login_limits import retry_after_s
from service.auth.sessions import MAX_LIFETIME, end_session, start_session
from service.auth.users import check_login
from service.deps import SessionDep
from service.store.db import utcnow
from service.web.config import LANGUAGES, WebSettings
from service.web.pages import WebDep, csrf_guard, person, render, safe_next, web_settings
from service.web.security import LANG_COOKIE, LOGIN_CSRF_COOKIE, SESSION_COOKIE, client_ip, csrf_matches, set_cookie

public = APIRouter(prefix="/web", include_in_schema=False)
router = APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(csrf_guard)])


def _login_page(request: Request, web: WebSettings, next_url: str, status: int = 200, error: str = "", **kw: object):
    token = secrets.token_urlsafe(24)
    response = render(request, "login.html", status, login_csrf=token, next_url=next_url, error=error, **kw)
    set_cookie(response, request, web, LOGIN_CSRF_COOKIE, token, 3600)
    return response


@public.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None, web: WebSettings = Depends(web_settings)):
    if getattr(request.state, "web_session", None) is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, web, safe_next(next))


@public.post("/login", response_class=HTMLResponse)
async def login(request: Request, session: SessionDep, web: WebDep):
    form = await request.form(max_files=0, max_fields=10)
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    next_url = safe_next(str(form.get("next", "")))
    if not csrf_matches(request.cookies.get(LOGIN_CSRF_COOKIE, ""), str(form.get("csrf_token", ""))):
        return _login_page(request, web, next_url, 403, "login.expired", username=username)
    ip = client_ip(request)

    def attempt() -> tuple[str, str, datetime | None]:
        result = check_login(session, username, password, ip)
        if result.outcome == "throttled":  # refused unread: no audit row, or a flood would fill the log
            return result.outcome, "", result.locked_until
        if result.outcome != "ok" or result.user is None:
            action = "login.locked" if result.outcome == "locked" else "login.failed"
            audit(session, None, action, "user", username, result.outcome, ip, actor=f"login:{username}")
            return result.outcome, "", result.locked_until
        token, _csrf = start_session(session, result.user, ip)
        audit(session, None, "login", "user", username, "", ip, actor=f"{result.user.role}:{username}")
        return "ok", token, None

    outcome, token, until = await run_in_threadpool(attempt)
    if outcome in ("locked", "throttled") and until is not None:
        wait = retry_after_s(until, utcnow())
        key = "login.locked" if outcome == "locked" else "login.throttled"
        page = _login_page(request, web, next_url, 429, key, username=username, minutes=math.ceil(wait / 60))
        page.headers["Retry-After"] = str(wait)
        return page
    if outcome != "ok":
        return _login_page(request, web, next_url, 401, "login.wrong", username=username)
    response = RedirectResponse(next_url, status_code=303)
    set_cookie(response, request, web, SESSION_COOKIE, token, int(MAX_LIFETIME.total_seconds()))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> RedirectResponse:
    who = person(request)
    end_session(session, request.cookies.get(SESSION_COOKIE, ""))
    audit(session, who, "logout", "user", who.name, ip=client_ip(request))
    response = RedirectResponse("/web/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@public.get("/lang/{code}")
def switch_language(
    code: str, request: Request, next: str | None = None, web: WebSettings = Depends(web_settings)
) -> RedirectResponse:
    """Remember the chosen language in a cookie (a preference of this browser, no server state)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    if code in LANGUAGES:
        set_cookie(response, request, web, LANG_COOKIE, code, 365 * 24 * 3600)
    return response


@public.get("/")
@public.get("")
def home() -> RedirectResponse:
    return RedirectResponse("/web/hazards", status_code=303)
