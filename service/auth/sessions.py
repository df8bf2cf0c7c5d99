"""Server-side browser sessions: a random cookie token (only its hash stored), a per-session CSRF token,
an idle timeout and an absolute lifetime. Logging out or disabling the user ends the session at once.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.auth.users import UserPrincipal, principal_for
from service.store.auth_models import User, WebSession
from service.store.db import utcnow

IDLE_TIMEOUT = timedelta(hours=2)
MAX_LIFETIME = timedelta(hours=12)  # one working shift; then log in again
TOUCH_EVERY = timedelta(minutes=1)  # write last_seen_at at most this often


@dataclass(frozen=True)
class ActiveSession:
    """What a request learns from a valid session cookie."""

    session_id: int
    principal: UserPrincipal
    csrf_token: str


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user: User, ip: str = "", now: datetime | None = None) -> tuple[str, str]:
    """A new session for `user` (a fresh token, never a reused one); returns (cookie token, CSRF token)."""
    now = now or utcnow()
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_sha256=_digest(token),
            user_id=user.id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + MAX_LIFETIME,
            ip=ip[:64],
        )
    )
    session.execute(delete(WebSession).where(WebSession.expires_at < now))  # housekeeping
    session.flush()
    return token, csrf


def resolve_session(session: Session, token: str, now: datetime | None = None) -> ActiveSession | None:
    """The session for a cookie token, or None when unknown, expired, idle too long or the user is disabled."""
    now = now or utcnow()
    row = session.scalars(select(WebSession).where(WebSession.token_sha256 == _digest(token))).first()
    if row is None:
        return None
    user = session.get(User, row.user_id)
    if row.expires_at <= now or now - row.last_seen_at > IDLE_TIMEOUT or user is None or user.disabled_at:
        session.delete(row)
        return None
    if now - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = now
    return ActiveSession(row.id, principal_for(user), row.csrf_token)


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_sha256 == _digest(token)))


def csrf_matches(expected: str, presented: str | None) -> bool:
    return bool(presented) and secrets.compare_digest(expected.encode(), str(presented).encode())
