"""Browser sessions on every request: the cookie becomes `request.state.principal` (so the API's own
`principal` dependency serves a logged-in person too), and state-changing calls need the CSRF token.

Pages check the token themselves (form field or header, `check_csrf`); API calls made with the cookie
must send it in `X-CSRF-Token`, or they are refused here. Calls with an API key carry no cookie
authority: a key in the request always wins and needs no CSRF token.
"""

from __future__ import annotations

from http.cookies import SimpleCookie

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from service.auth.sessions import ActiveSession, csrf_matches, resolve_session
from service.web.config import WebSettings

SESSION_COOKIE = "cw_session"
LOGIN_CSRF_COOKIE = "cw_login_csrf"
LANG_COOKIE = "cw_lang"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]", "testserver"}
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "private, no-store",
}


PUBLIC_PREFIXES = ("/web/static/", "/open311/", "/report/")


def is_public(path: str) -> bool:
    """Static files and the residents' report form and API: no session is read, so no cookie authority
    reaches them and no CSRF token is asked for (they are limited per address instead)."""
    return path == "/report" or path.startswith(PUBLIC_PREFIXES)


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token."""


def _cookies(headers: Headers) -> dict[str, str]:
    jar = SimpleCookie()
    try:
        jar.load(headers.get("cookie", ""))
    except Exception:
        return {}
    return {k: v.value for k, v in jar.items()}


class SessionMiddleware:
    """Resolve the session cookie once per request (pure ASGI: no buffering of bodies or streams)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_public(scope["path"]):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        token = _cookies(headers).get(SESSION_COOKIE)
        uses_key = headers.get("authorization", "").lower().startswith("bearer ") or "x-api-key" in headers
        if token and not uses_key:
            runtime = getattr(scope["app"].state, "runtime", None)
            active = await run_in_threadpool(_resolve, runtime, token) if runtime else None
            if active is not None:
                state = scope.setdefault("state", {})
                state["principal"], state["web_session"] = active.principal, active
                unsafe = scope["method"] not in SAFE_METHODS
                if (
                    unsafe
                    and not scope["path"].startswith("/web/")
                    and not csrf_matches(active.csrf_token, headers.get("x-csrf-token"))
                ):
                    message = "CSRF token missing or wrong: send X-CSRF-Token"
                    refusal = JSONResponse({"detail": {"reason": "csrf", "message": message}}, 403)
                    await refusal(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _resolve(runtime: object, token: str) -> ActiveSession | None:
    with runtime.db.session() as session:  # type: ignore[attr-defined]
        return resolve_session(session, token)


async def check_csrf(request: Request) -> None:
    """Raise CsrfError unless the request carries this session's token (header or `csrf_token` field)."""
    active: ActiveSession | None = getattr(request.state, "web_session", None)
    presented = request.headers.get("x-csrf-token")
    if presented is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form(max_files=2, max_fields=20)
        value = form.get("csrf_token")
        presented = value if isinstance(value, str) else None
    if active is None or not csrf_matches(active.csrf_token, presented):
        raise CsrfError()


def cookie_is_secure(request: Request, web: WebSettings) -> bool:
    if web.cookie_secure != "auto":
        return web.cookie_secure == "always"
    return request.url.scheme == "https" or (request.url.hostname or "") not in LOOPBACK


def set_cookie(response: Response, request: Request, web: WebSettings, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_is_secure(request, web),
    )


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""
