"""People's accounts: argon2id password hashes, the sign-in check under the login limits, creation rules.

Machines keep API keys (service/auth/keys.py); a person gets a `Principal` of the same shape, so every
scope check (service/auth/scope.py) treats both alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import login_limits as limits
from service.auth.keys import AGENCY_KINDS_FOR_ROLE, Principal, agency_problem
from service.store.auth_models import User
from service.store.db import utcnow

USER_ROLES = ("property", "township", "police", "fire", "bureau", "county", "admin")
MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # longer input is cut before hashing: no CPU spent on megabyte "passwords"
LOCK_AFTER_FAILURES = limits.NAME_FAILURES
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_dummy: tuple[PasswordHasher | None, str] = (None, "")


def _dummy_hash() -> str:
    """A hash made by the hasher in use, so checking an unknown name costs what checking a known one does."""
    global _dummy
    if _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash("clearway-timing-equaliser"))
    return _dummy[1]


class UserCreationError(ValueError):
    """A user that cannot be created as asked (bad role, weak password, unknown agency...)."""


@dataclass(frozen=True)
class UserPrincipal(Principal):
    """A logged-in person: the same scope rules as a key, plus the account id for sessions and audit."""

    user_id: int = 0
    display_name: str = ""


def principal_for(user: User) -> UserPrincipal:
    return UserPrincipal(
        name=user.username,
        role=user.role,
        agency_id=user.agency_id,
        user_id=user.id,
        display_name=user.display_name or user.username,
    )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_problem(password: str) -> None:
    """Raise UserCreationError for a password that may not be set (creation and reset alike)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserCreationError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise UserCreationError(f"password must be at most {MAX_PASSWORD_LENGTH} characters")


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    agency_id: str | None = None,
    display_name: str = "",
) -> User:
    """Store a new account; refuses duplicate names, unknown roles/agencies and short passwords."""
    if role not in USER_ROLES:
        raise UserCreationError(f"unknown role {role!r}; people have one of {USER_ROLES}")
    if not username or len(username) > 64 or not username.replace("-", "").replace("_", "").replace(".", "").isalnum():
        raise UserCreationError("username must be 1-64 letters, digits, '-', '_' or '.'")
    password_problem(password)
    if session.scalars(select(User).where(User.username == username)).first() is not None:
        raise UserCreationError(f"user {username!r} already exists")
    problem = agency_problem(session, role, agency_id)
    if problem:
        raise UserCreationError(problem)
    if role not in AGENCY_KINDS_FOR_ROLE and agency_id:
        raise UserCreationError(f"role {role!r} sees everything; it takes no agency")
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        agency_id=agency_id,
    )
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True)
class LoginResult:
    user: User | None
    outcome: str  # "ok", "wrong" (unknown user or bad password), "locked" (the name), "throttled" (the address),
    # "disabled" (right password, disabled account)
    locked_until: datetime | None = None


def check_login(
    session: Session, username: str, password: str, ip: str = "", now: datetime | None = None
) -> LoginResult:
    """Verify a password under the login limits (service/auth/login_limits.py); the caller commits, since the
    failure counts must persist. A name that does not exist takes the same path, work and lock as one that
    does, so no answer (401, 429) and no timing tells which names exist."""
    now = now or utcnow()
    name = limits.name_subject(username)
    if ip and (until := limits.held_until(session, limits.ADDR, ip, now)):
        return LoginResult(None, "throttled", until)
    if until := limits.held_until(session, limits.NAME, name, now):
        if ip:
            limits.record_failure(session, limits.ADDR, ip, now)
        return LoginResult(None, "locked", until)
    user = session.scalars(select(User).where(User.username == username)).first()
    right = _verify(user.password_hash if user else _dummy_hash(), password[:MAX_PASSWORD_LENGTH])
    if user is None or not right:
        locked = limits.record_failure(session, limits.NAME, name, now)
        if ip:
            limits.record_failure(session, limits.ADDR, ip, now)
        limits.prune(session, now)
        return LoginResult(None, "locked", locked) if locked else LoginResult(None, "wrong")
    if user.disabled_at is not None:
        return LoginResult(user, "disabled")
    limits.clear(session, limits.NAME, name)
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password[:MAX_PASSWORD_LENGTH])
    return LoginResult(user, "ok")


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
