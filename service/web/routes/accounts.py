"""The accounts page (admins only): people and API keys, and the buttons that disable, enable, unlock or reset a
person and revoke a key. Each change is made by service/auth/accounts.py, as by the CLI, and audited there.

Changes are POST forms under the router's CSRF guard, answered with a redirect back (so a reload repeats
nothing), except a password reset: its new password is shown once, on the answer itself, and never put in a URL.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from service.auth.accounts import (
    AccountError,
    Actor,
    disable_user,
    enable_user,
    list_keys,
    list_people,
    reset_password,
    revoke_key,
    unlock_user,
)
from service.auth.users import UserPrincipal
from service.deps import SessionDep
from service.web.pages import PageError, PersonDep, csrf_guard, known_code, render
from service.web.security import client_ip

router = APIRouter(prefix="/web/admin", include_in_schema=False, dependencies=[Depends(csrf_guard)])
PAGE = "/web/admin/accounts"
USER_ACTIONS = {"disable": disable_user, "enable": enable_user, "unlock": unlock_user}
DONE = ("disable", "enable", "unlock", "revoke")
ERRORS = ("not_found", "unchanged", "self", "unsure")
USERNAME = re.compile(r"[A-Za-z0-9._-]{1,64}")
PREFIX = re.compile(r"[0-9a-f]{1,16}")


def _admin(who: UserPrincipal) -> UserPrincipal:
    if who.role != "admin":
        raise PageError(403, "error.forbidden")
    return who


def _page(request: Request, session: Session, status: int = 200, **extra: object) -> HTMLResponse:
    people, keys = list_people(session), list_keys(session)
    target = request.query_params.get("target", "")
    known = {p.username for p in people} | {k.prefix for k in keys}
    return render(
        request,
        "accounts.html",
        status,
        nav="accounts",
        people=people,
        keys=keys,
        done=known_code(request.query_params.get("done"), DONE),
        error=known_code(request.query_params.get("error"), ERRORS),
        target=target if target in known else "",  # echo only a name that is on the page anyway
        **({"new_password": None} | extra),
    )


def _back(target: str, done: str = "", error: str = "") -> RedirectResponse:
    query = {"done": done} if done else {"error": error}
    return RedirectResponse(f"{PAGE}?{urlencode(query | {'target': target})}", status_code=303)


@router.get("/accounts", response_class=HTMLResponse)
def accounts_page(request: Request, session: SessionDep, who: PersonDep) -> HTMLResponse:
    _admin(who)
    return _page(request, session)


@router.post("/accounts/users/{username}/reset-password", response_class=HTMLResponse)
def reset_page(request: Request, username: str, session: SessionDep, who: PersonDep) -> Response:
    """Answers the page itself with the new password, shown this once (the response is not cached)."""
    _admin(who)
    if not USERNAME.fullmatch(username):
        raise PageError(404, "error.not_found")
    if username == who.name:
        return _back(username, error="self")  # their own: the CLI or another admin (it would end this session)
    try:
        password = reset_password(session, username, Actor(who, client_ip(request)))
    except AccountError as exc:
        return _back(username, error=exc.kind)
    return _page(request, session, new_password=password, reset_user=username)


@router.post("/accounts/users/{username}/{action}")
def change_user(request: Request, username: str, action: str, session: SessionDep, who: PersonDep) -> RedirectResponse:
    _admin(who)
    change = USER_ACTIONS.get(action)
    if change is None or not USERNAME.fullmatch(username):
        raise PageError(404, "error.not_found")
    if action == "disable" and username == who.name:
        return _back(username, error="self")  # an admin never locks themself out from here
    try:
        change(session, username, Actor(who, client_ip(request)))
    except AccountError as exc:
        return _back(username, error=exc.kind)
    return _back(username, done=action)


@router.post("/accounts/keys/{prefix}/revoke")
def revoke(
    request: Request, prefix: str, session: SessionDep, who: PersonDep, sure: str = Form("")
) -> RedirectResponse:
    _admin(who)
    if not PREFIX.fullmatch(prefix):
        raise PageError(404, "error.not_found")
    if sure != "yes":  # revoking cannot be undone: the box must be ticked
        return _back(prefix, error="unsure")
    try:
        revoke_key(session, prefix, Actor(who, client_ip(request)))
    except AccountError as exc:
        return _back(prefix, error=exc.kind)
    return _back(prefix, done="revoke")
