"""Fixtures (objects a reviewer marked as permanent) and lift entries per day: the site's standing exceptions
and its lifts' figures. Included before the hazards router: `/hazards/{id}/fixture` is not a lifecycle action."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from service.actions.fixtures import FixtureCommand, FixtureView, mark_fixture, remove_fixture, visible_fixtures
from service.actions.hazards import READERS
from service.actions.lifts import LiftDay, lift_days
from service.deps import PrincipalDep, RowId, RuntimeDep, SessionDep, require
from service.store.db import utcnow

router = APIRouter(prefix="/api/v1", tags=["fixtures and lifts"], dependencies=[Depends(require(*READERS))])


class FixtureList(BaseModel):
    items: list[FixtureView]


class LiftDays(BaseModel):
    first: date
    last: date
    items: list[LiftDay]


@router.post("/hazards/{hazard_id}/fixture", response_model=FixtureView, status_code=201)
def mark(
    hazard_id: RowId, session: SessionDep, runtime: RuntimeDep, who: PrincipalDep, body: FixtureCommand | None = None
) -> FixtureView:
    """A reviewer (police, admin) marks the hazard's object as a permanent fixture for `days`: the hazard is
    dismissed ("fixture") and the same object in the same place is ignored until the mark ends."""
    return mark_fixture(session, runtime.writer, who, hazard_id, body or FixtureCommand(), utcnow())


@router.get("/cameras/{camera_id}/fixtures", response_model=FixtureList)
def camera_fixture_list(camera_id: str, session: SessionDep, who: PrincipalDep) -> FixtureList:
    """The camera's live fixture marks, soonest to expire first."""
    return FixtureList(items=visible_fixtures(session, who, camera_id, utcnow()))


@router.delete("/fixtures/{fixture_id}", response_model=FixtureView)
def end_fixture(fixture_id: RowId, session: SessionDep, who: PrincipalDep) -> FixtureView:
    """End a mark now (reviewers): the object alerts again like any other."""
    return remove_fixture(session, who, fixture_id, utcnow())


@router.get("/lifts/entries", response_model=LiftDays)
def lift_entries(
    session: SessionDep,
    runtime: RuntimeDep,
    who: PrincipalDep,
    first: date | None = Query(default=None, alias="from", description="site date; default: 6 days before 'to'"),
    last: date | None = Query(default=None, alias="to", description="site date; default: today"),
) -> LiftDays:
    """Objects entering each lift per site day, and how many stayed to open a hazard (docs/lifts.md)."""
    site = runtime.sites.current()
    last = last or utcnow().astimezone(site.zone).date()
    first = first or last - timedelta(days=6)
    return LiftDays(first=first, last=last, items=lift_days(session, who, site, first, last))
