"""Request dependencies: the app's services, the calling principal, role checks."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Depends, HTTPException, Request, status

from service.auth.keys import Principal, authenticate
from service.runtime import Runtime as Services


def services(request: Request) -> Services:
    return request.app.state.services


def _presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip()
    return request.headers.get("x-api-key")


def principal(request: Request, svc: Services = Depends(services)) -> Principal:
    """The authenticated caller, or 401. Other auth schemes (web sessions) plug in via request.state."""
    existing = getattr(request.state, "principal", None)
    if existing is not None:
        return existing
    key = _presented_key(request)
    if not key:
        svc.metrics.auth_failures.labels(reason="missing").inc()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    with svc.db.session() as session:
        found = authenticate(session, key)
    if found is None:
        svc.metrics.auth_failures.labels(reason="invalid").inc()
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key", headers={"WWW-Authenticate": "Bearer"}
        )
    request.state.principal = found
    return found


def require(*roles: str) -> Callable[..., Principal]:
    """Dependency allowing only the given roles (403 otherwise)."""

    def check(who: Principal = Depends(principal)) -> Principal:
        if who.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {who.role!r} may not do this (needs {roles})")
        return who

    return check
