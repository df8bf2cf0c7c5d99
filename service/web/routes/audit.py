"""The audit log page (admins only): newest first, filter by actor, action or object, keyset pages."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from service.deps import Cursor, SessionDep
from service.store.auth_models import AuditEntry
from service.web.pages import PageError, PersonDep, csrf_guard, render

router = APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(csrf_guard)])
PAGE = 100


@router.get("/audit", response_class=HTMLResponse)
def audit_page(
    request: Request,
    session: SessionDep,
    who: PersonDep,
    actor: str = "",
    action: str = "",
    object: str = "",
    cursor: Cursor = None,
) -> HTMLResponse:
    if who.role != "admin":
        raise PageError(403, "error.forbidden")
    query = select(AuditEntry).order_by(AuditEntry.id.desc())
    if actor:
        query = query.where(AuditEntry.actor == actor.strip())
    if action:
        query = query.where(AuditEntry.action.startswith(action.strip(), autoescape=True))
    if object:
        kind, _, ident = object.strip().partition(":")
        query = query.where(AuditEntry.object_type == kind)
        if ident:
            query = query.where(AuditEntry.object_id == ident)
    if cursor is not None:
        query = query.where(AuditEntry.id < cursor)
    rows = list(session.scalars(query.limit(PAGE + 1)))
    filters = {k: v for k, v in (("actor", actor), ("action", action), ("object", object)) if v}
    older = f"?{urlencode(filters | {'cursor': rows[PAGE - 1].id})}" if len(rows) > PAGE else None
    return render(
        request,
        "audit.html",
        nav="audit",
        rows=rows[:PAGE],
        filters={"actor": actor, "action": action, "object": object},
        older_link=older,
        first_link=f"?{urlencode(filters)}" if cursor else None,
    )
