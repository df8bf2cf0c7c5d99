"""Fixtures: a reviewer marks a hazard's object as permanent (a kiosk, a registered vehicle, a planter).

Marking dismisses the hazard (reason "fixture") and stores the mark: the object's box in the hazard's frame,
as fractions of that frame, with its category and an expiry. From then on the dwell engine ignores that object
in that place (service/hazards/fixtures.py) and every page shows it as a fixture, until the mark expires or a
reviewer removes it. Reviewers are whoever may dismiss: the police and administrators.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from service.actions.errors import Conflict, Forbidden, NotFound
from service.actions.hazards import ACTIONS, load_visible
from service.actions.snapshot import snapshot
from service.auth.audit import audit
from service.auth.keys import Principal
from service.hazards.fixtures import as_fraction
from service.store import models as m
from service.store.fixtures import camera_fixtures
from service.store.hazard_writer import HazardWriter
from service.store.lifecycle import ACTIVE, HazardStatus
from service.store.scope import can_see_compound
from service.store.watch_models import Fixture

REVIEWERS = ACTIONS["dismiss"][1]
FIXTURE_REASON = "fixture"
DEFAULT_DAYS = 90


class FixtureCommand(BaseModel):
    """How long the mark holds, and what the object is (shown wherever the fixture is)."""

    days: int = Field(default=DEFAULT_DAYS, ge=1, le=366, description="the mark expires after this many days")
    note: str = Field(default="", max_length=500, description="what it is: 'kiosk', 'registered vehicle A12345'")


class FixtureView(BaseModel):
    id: int
    camera_id: str
    zone: str | None
    category: str
    class_name: str
    box: list[float] = Field(description="x1, y1, x2, y2 as fractions of the frame")
    note: str
    hazard_id: int | None
    created_by: str
    created_at: datetime
    expires_at: datetime

    @classmethod
    def of(cls, row: Fixture) -> FixtureView:
        return cls(
            id=row.id,
            camera_id=row.camera_id,
            zone=row.zone_key,
            category=row.category,
            class_name=row.class_name,
            box=list(row.box),
            note=row.note,
            hazard_id=row.hazard_id,
            created_by=row.created_by,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )


def mark_fixture(
    session: Session, writer: HazardWriter, who: Principal, hazard_id: int, cmd: FixtureCommand, now: datetime
) -> FixtureView:
    """The hazard's object becomes a fixture; an active hazard is dismissed with reason "fixture". Commits."""
    if who.role not in REVIEWERS:
        raise Forbidden(f"role {who.role!r} may not mark fixtures (reviewers: {', '.join(REVIEWERS)})")
    hazard = load_visible(session, who, hazard_id)
    if hazard.camera_id is None:
        raise Conflict(f"hazard {hazard.id} was reported by a person; only a camera's object can be a fixture")
    frame = session.get(m.FrameRecord, hazard.latest_frame_id) if hazard.latest_frame_id else None
    if frame is None:
        raise Conflict(f"hazard {hazard.id}'s frame is no longer stored, so the object's place is unknown")
    expires = now + timedelta(days=cmd.days)
    row = Fixture(
        camera_id=hazard.camera_id,
        zone_key=hazard.zone_key,
        category=hazard.category,
        class_name=hazard.class_name,
        box=as_fraction(hazard.box, frame.width, frame.height),
        note=cmd.note.strip(),
        hazard_id=hazard.id,
        created_by=who.actor,
        created_at=now,
        expires_at=expires,
    )
    session.add(row)
    session.flush()
    if hazard.status in ACTIVE:
        text = cmd.note.strip()
        note = f"{FIXTURE_REASON}: {text}".rstrip(": ")
        params = {"reason": FIXTURE_REASON, "text": text, "fixture": row.id, "until": expires.isoformat()}
        writer.transition(
            session, hazard, HazardStatus.dismissed, who.actor, note, params | {"before": snapshot(hazard)}
        )
        hazard.disputed = False
    audit(session, who, "fixture.mark", "hazard", hazard.id, f"fixture {row.id} until {expires.isoformat()}")
    session.commit()
    return FixtureView.of(row)


def remove_fixture(session: Session, who: Principal, fixture_id: int, now: datetime) -> FixtureView:
    """The mark ends now: the object alerts again like any other. Commits."""
    if who.role not in REVIEWERS:
        raise Forbidden(f"role {who.role!r} may not remove fixtures")
    row = session.get(Fixture, fixture_id)
    camera = session.get(m.Camera, row.camera_id) if row is not None else None
    if row is None or camera is None or not can_see_compound(session, who, camera.compound_id):
        raise NotFound(f"fixture {fixture_id} not found")
    if row.removed_at is not None or row.expires_at <= now:
        raise Conflict(f"fixture {fixture_id} has already ended")
    row.removed_at, row.removed_by = now, who.actor
    audit(session, who, "fixture.remove", "fixture", row.id, row.note)
    session.commit()
    return FixtureView.of(row)


def visible_fixtures(session: Session, who: Principal, camera_id: str, now: datetime) -> list[FixtureView]:
    """A camera's live marks, for anyone who sees its compound."""
    camera = session.get(m.Camera, camera_id)
    if camera is None or not can_see_compound(session, who, camera.compound_id):
        raise NotFound(f"camera {camera_id} not found")
    return [FixtureView.of(row) for row in camera_fixtures(session, [camera_id], now)]
