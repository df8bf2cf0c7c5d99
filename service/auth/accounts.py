"""Managing accounts and keys: list, disable, enable, unlock, reset a password, revoke a key.

One function per change, shared by `clearway users|keys ...` and the admin page, so both do each thing the
same way and write the same audit row (actor "cli" from the command line, the admin from the page). Each takes
effect at once: disabling or resetting ends the person's sessions, and keys are looked up on every request
(nothing caches them), so a revoked key is refused on its next call.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from service.auth import login_limits as limits
from service.auth.audit import audit
from service.auth.keys import Principal
from service.auth.users import hash_password, password_problem
from service.store import models as m
from service.store.auth_models import User, WebSession
from service.store.db import utcnow


class AccountError(ValueError):
    """A change that cannot be made: `kind` is "not_found", "unchanged" (already so) or "invalid"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class Actor:
    """Who makes a change, for the audit row: a logged-in admin, or the command line (who=None)."""

    who: Principal | None = None
    ip: str = ""

    @property
    def name(self) -> str:
        return "cli" if self.who is None else self.who.actor

    def record(self, session: Session, action: str, object_type: str, object_id: str, detail: str = "") -> None:
        actor, via = ("cli", "cli") if self.who is None else (None, None)
        audit(session, self.who, action, object_type, object_id, detail, self.ip, actor=actor, via=via)


CLI = Actor()


@dataclass(frozen=True)
class PersonRow:
    username: str
    display_name: str
    role: str
    agency_id: str | None
    agency_name: str
    created_at: datetime
    last_login_at: datetime | None
    locked_until: datetime | None
    disabled_at: datetime | None


@dataclass(frozen=True)
class KeyRow:
    """A key as people may see it: never its secret or hash."""

    prefix: str
    name: str
    role: str
    agency_id: str | None
    agency_name: str
    camera_ids: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


def list_people(session: Session, now: datetime | None = None) -> list[PersonRow]:
    now = now or utcnow()
    users = list(session.scalars(select(User).order_by(User.username)))
    names = _agency_names(session)
    locks = limits.names_locked(session, [u.username for u in users], now)
    return [
        PersonRow(
            u.username,
            u.display_name,
            u.role,
            u.agency_id,
            names.get(u.agency_id or "", ""),
            u.created_at,
            u.last_login_at,
            locks.get(u.username),
            u.disabled_at,
        )
        for u in users
    ]


def list_keys(session: Session) -> list[KeyRow]:
    names = _agency_names(session)
    rows = session.scalars(select(m.ApiKey).order_by(m.ApiKey.revoked_at.is_not(None), m.ApiKey.id))
    return [_key_row(k, names) for k in rows]


def _key_row(k: m.ApiKey, names: dict[str, str]) -> KeyRow:
    agency = names.get(k.agency_id or "", "")
    return KeyRow(k.prefix, k.name, k.role, k.agency_id, agency, tuple(k.camera_ids or ()), k.created_at, k.revoked_at)


def disable_user(session: Session, username: str, by: Actor) -> None:
    """Refuse the person's logins and end every session they hold, now."""
    user = _user(session, username)
    if user.disabled_at is not None:
        raise AccountError("unchanged", f"user {username!r} is disabled already")
    user.disabled_at = utcnow()
    ended = _end_sessions(session, user)
    by.record(session, "user.disable", "user", username, f"{ended} session(s) ended")


def enable_user(session: Session, username: str, by: Actor) -> None:
    user = _user(session, username)
    if user.disabled_at is None:
        raise AccountError("unchanged", f"user {username!r} is not disabled")
    user.disabled_at = None
    by.record(session, "user.enable", "user", username)


def unlock_user(session: Session, username: str, by: Actor) -> None:
    """Lift the lock that failed sign-ins put on this name (the address limit stays: it guards everyone)."""
    _user(session, username)
    if not limits.clear(session, limits.NAME, limits.name_subject(username)):
        raise AccountError("unchanged", f"user {username!r} is not locked")
    by.record(session, "user.unlock", "user", username)


def reset_password(session: Session, username: str, by: Actor, password: str | None = None) -> str:
    """Set a new password (a random one when none is given) and return it, to be shown once. The old
    password may be known to someone else: the person's sessions end and the name's lock is lifted."""
    user = _user(session, username)
    new = password if password is not None else secrets.token_urlsafe(12)
    try:
        password_problem(new)
    except ValueError as exc:
        raise AccountError("invalid", str(exc)) from exc
    user.password_hash = hash_password(new)
    ended = _end_sessions(session, user)
    limits.clear(session, limits.NAME, limits.name_subject(username))
    detail = ("generated" if password is None else "given") + f"; {ended} session(s) ended"
    by.record(session, "user.reset_password", "user", username, detail)
    return new


def revoke_key(session: Session, prefix: str, by: Actor) -> KeyRow:
    """Revoke by prefix (the whole key `cw_<prefix>_<secret>` is taken too: its prefix is used)."""
    prefix = prefix.strip()
    if prefix.startswith("cw_"):
        prefix = prefix.split("_", 2)[1]
    row = session.scalars(select(m.ApiKey).where(m.ApiKey.prefix == prefix)).first()
    if row is None:
        raise AccountError("not_found", f"no key with prefix {prefix!r} (see `clearway keys list`)")
    if row.revoked_at is not None:
        raise AccountError("unchanged", f"key {prefix!r} is revoked already")
    row.revoked_at = utcnow()
    by.record(session, "key.revoke", "api_key", row.prefix, f"{row.role}:{row.name}")
    return _key_row(row, _agency_names(session))


def _user(session: Session, username: str) -> User:
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise AccountError("not_found", f"no user {username!r} (see `clearway users list`)")
    return user


def _end_sessions(session: Session, user: User) -> int:
    return session.execute(delete(WebSession).where(WebSession.user_id == user.id)).rowcount or 0


def _agency_names(session: Session) -> dict[str, str]:
    return {a.id: a.name for a in session.scalars(select(m.Agency))}
