"""People's accounts: argon2id password hashes, lockout after repeated failures, creation rules.

Machines keep API keys (service/auth/keys.py); a person gets a `Principal` of the same shape, so every
scope check (service/auth/scope.py) treats both alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.keys import AGENCY_KINDS_FOR_ROLE, Principal, agency_problem
from service.store.auth_models import User
from service.store.db import utcnow

USER_ROLES = ("property", "township", "police", "fire", "bureau", "county", "admin")
MIN_PASSWORD_LENGTH = 10
LOCK_AFTER_FAILURES = 5
LOCK_MINUTES = 15
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
_DUMMY_HASH = _hasher.hash("clearway-timing-equaliser")


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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserCreationError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
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
    outcome: str  # "ok", "wrong" (unknown user or bad password), "locked", "disabled"
    locked_until: datetime | None = None


def check_login(session: Session, username: str, password: str, now: datetime | None = None) -> LoginResult:
    """Verify a password and apply the lockout rule; the caller commits (failure counts must persist)."""
    now = now or utcnow()
    user = session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        _verify(_DUMMY_HASH, password)  # same cost as a real check: no user enumeration by timing
        return LoginResult(None, "wrong")
    if user.locked_until is not None and user.locked_until > now:
        return LoginResult(user, "locked", user.locked_until)
    if not _verify(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= LOCK_AFTER_FAILURES:
            user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            return LoginResult(user, "locked", user.locked_until)
        return LoginResult(user, "wrong")
    if user.disabled_at is not None:
        return LoginResult(user, "disabled")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginResult(user, "ok")


def _verify(hashed: str, password: str) -> bool:
    try:
        return _hasher.verify(hashed, password)
    except (VerificationError, InvalidHashError):
        return False
