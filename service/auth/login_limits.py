"""Limits on failed sign-ins, kept in the database so every process serving it counts the same failures.

Two counters, one rule each:
- per attempted **name**, whether or not such a user exists: after `NAME_FAILURES` failures the name is locked
  for `NAME_LOCK`. Unknown names lock exactly like known ones, so neither the answer (429) nor its timing tells
  which names exist. The name is stored only as the SHA-256 of its case-folded form.
- per client **address**: after `ADDR_FAILURES` failures within `ADDR_WINDOW` the address is refused for
  `ADDR_LOCK`, doubled at each further lock (up to `ADDR_LOCK_MAX`): spraying many names from one place stops.

A row idle for `FORGET_AFTER` is deleted on the next failure anywhere, so the table stays small.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, or_, select
from sqlalchemy.orm import Session

from service.store.auth_models import LoginLimit

NAME, ADDR = "name", "addr"
NAME_FAILURES = 5
NAME_LOCK = timedelta(minutes=15)
ADDR_FAILURES = 20
ADDR_WINDOW = timedelta(minutes=10)
ADDR_LOCK = timedelta(minutes=1)
ADDR_LOCK_MAX = timedelta(hours=1)
FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True)
class Rule:
    """How many failures within which window start a lock, and how long the n-th lock lasts."""

    failures: int
    window: timedelta
    lock: timedelta
    lock_max: timedelta

    def lock_for(self, strikes: int) -> timedelta:
        return min(self.lock * (2 ** min(strikes, 16)), self.lock_max)


def rule(scope: str) -> Rule:
    """Read at call time (not import time), so a deployment or a test can change the constants above."""
    if scope == NAME:
        return Rule(NAME_FAILURES, FORGET_AFTER, NAME_LOCK, NAME_LOCK)
    return Rule(ADDR_FAILURES, ADDR_WINDOW, ADDR_LOCK, ADDR_LOCK_MAX)


def name_subject(username: str) -> str:
    """What a name is counted under: its case-folded SHA-256 ('Police' and 'police' share one counter)."""
    return hashlib.sha256(username.strip().casefold().encode()).hexdigest()


def retry_after_s(until: datetime, now: datetime) -> int:
    """Whole seconds until `until`, at least 1 (the value of a Retry-After header)."""
    return max(1, math.ceil((until - now).total_seconds()))


def held_until(session: Session, scope: str, subject: str, now: datetime) -> datetime | None:
    """When the lock on this name or address ends, or None when it is not locked."""
    row = session.scalars(_query(scope, subject)).first()
    if row is None or row.locked_until is None or row.locked_until <= now:
        return None
    return row.locked_until


def record_failure(session: Session, scope: str, subject: str, now: datetime) -> datetime | None:
    """Count one failure; returns the lock's end when this failure starts a lock, None otherwise."""
    row = _locked_row(session, scope, subject, now)
    limits = rule(scope)
    if now - row.window_start > limits.window:
        row.failures, row.window_start = 0, now
    row.failures += 1
    row.updated_at = now
    if row.failures < limits.failures:
        return None
    row.locked_until = now + limits.lock_for(row.strikes)
    row.strikes += 1
    row.failures, row.window_start = 0, now
    return row.locked_until


def clear(session: Session, scope: str, subject: str) -> bool:
    """Forget a name's or address's failures and lock (a good sign-in, an administrator's unlock)."""
    result = session.execute(delete(LoginLimit).where(LoginLimit.scope == scope, LoginLimit.subject == subject[:64]))
    return bool(result.rowcount)


def prune(session: Session, now: datetime) -> None:
    """Delete rows nobody has failed on for a day and that hold no running lock."""
    idle = now - FORGET_AFTER
    session.execute(
        delete(LoginLimit).where(
            LoginLimit.updated_at < idle, or_(LoginLimit.locked_until.is_(None), LoginLimit.locked_until <= now)
        )
    )


def names_locked(session: Session, usernames: list[str], now: datetime) -> dict[str, datetime]:
    """username -> end of its running lock, for those of `usernames` that are locked (the accounts page)."""
    by_subject = {name_subject(u): u for u in usernames}
    if not by_subject:
        return {}
    rows = session.scalars(
        select(LoginLimit).where(
            and_(LoginLimit.scope == NAME, LoginLimit.subject.in_(by_subject), LoginLimit.locked_until > now)
        )
    )
    return {by_subject[r.subject]: r.locked_until for r in rows if r.locked_until is not None}


def _locked_row(session: Session, scope: str, subject: str, now: datetime) -> LoginLimit:
    """The counter row, created if missing, locked for this transaction (FOR UPDATE on PostgreSQL; SQLite's
    insert already holds the database's write lock), so two processes never lose each other's counts."""
    dialect = session.get_bind().dialect.name
    values = {"scope": scope, "subject": subject[:64], "failures": 0, "window_start": now, "strikes": 0}
    if dialect in ("postgresql", "sqlite"):
        if dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        statement = insert(LoginLimit).values(updated_at=now, **values)
        session.execute(statement.on_conflict_do_nothing(index_elements=["scope", "subject"]))
    elif session.scalars(_query(scope, subject)).first() is None:
        session.add(LoginLimit(updated_at=now, **values))
        session.flush()
    return session.scalars(_query(scope, subject).with_for_update().execution_options(populate_existing=True)).one()


def _query(scope: str, subject: str):
    return select(LoginLimit).where(LoginLimit.scope == scope, LoginLimit.subject == subject[:64])
