"""Queries over fixture marks: the live ones of a camera (every frame asks) and all of them (pages)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.watch_models import Fixture


def live_fixtures(session: Session, camera_id: str, at: datetime) -> list[Fixture]:
    """The marks that hold at capture time `at` (not removed, not expired); an indexed range, usually empty."""
    query = select(Fixture).where(Fixture.camera_id == camera_id, Fixture.expires_at > at, Fixture.removed_at.is_(None))
    return list(session.scalars(query.order_by(Fixture.id)))


def camera_fixtures(session: Session, camera_ids: list[str], now: datetime, limit: int = 200) -> list[Fixture]:
    """The live marks of these cameras, soonest to expire first (the zone editor and the API list them)."""
    query = select(Fixture).where(
        Fixture.camera_id.in_(camera_ids), Fixture.expires_at > now, Fixture.removed_at.is_(None)
    )
    return list(session.scalars(query.order_by(Fixture.expires_at, Fixture.id).limit(limit)))
