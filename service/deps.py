"""FastAPI dependencies shared by `api/` (JSON) and `web/` (pages): the runtime, one database session per
request, and the calling principal (an API key, or the person a web session cookie belongs to).

The session commits when the handler returns, before the response is sent (`scope="function"`): a commit
that fails answers 500, never a success for something not stored. A handler that must act after its changes
are committed (e.g. relearning a scene model, which writes its own row) calls `session.commit()` itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from service.auth.keys import Principal, authenticate
from service.runtime import Runtime

MAX_ROW_ID = 2**31 - 1  # PostgreSQL's integer; an id beyond it is a 422, never a database error
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
RowIdQuery = Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)]
Cursor = Annotated[int | None, Query(ge=0, le=MAX_ROW_ID, description="next_cursor from the previous page")]


async def get_runtime(request: Request) -> Runtime:
    """Async, as every dependency that does no I/O: FastAPI runs a plain `def` dependency in its thread pool,
    one hand-off per dependency per request, each costing the GIL as much as a database statement."""
    return request.app.state.runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with runtime.db.session() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


MISSING_KEY = "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


async def current_principal(request: Request, runtime: RuntimeDep) -> Principal:
    """The authenticated caller, or 401 (reason `unauthenticated` or `invalid_key`). A web session
    (service/web/security.py) arrives in request.state. The key is looked up in a short session of its own, in
    one hand-off to a thread: a long request (inference) holds no connection for it."""
    existing = getattr(request.state, "principal", None)
    if existing is not None:
        return existing
    key = _presented_key(request)
    if not key:
        runtime.metrics.auth_failures.labels(reason="missing").inc()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            {"reason": "unauthenticated", "message": MISSING_KEY},
            headers={"WWW-Authenticate": "Bearer"},
        )
    found = await run_in_threadpool(_authenticate, runtime, key)
    if found is None:
        runtime.metrics.auth_failures.labels(reason="invalid").inc()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            {"reason": "invalid_key", "message": "invalid or revoked API key"},
            headers={"WWW-Authenticate": "Bearer"},
        )
    request.state.principal = found
    return found


PrincipalDep = Annotated[Principal, Depends(current_principal)]


def _authenticate(runtime: Runtime, key: str) -> Principal | None:
    with runtime.db.session() as session:
        return authenticate(session, key)


def require(*roles: str) -> Callable[..., Awaitable[Principal]]:
    """Dependency allowing only the given roles (403 otherwise)."""

    async def check(who: PrincipalDep) -> Principal:
        if who.role not in roles:
            message = f"role {who.role!r} may not do this (needs one of {', '.join(roles)})"
            raise HTTPException(status.HTTP_403_FORBIDDEN, {"reason": "forbidden", "message": message})
        return who

    return check
