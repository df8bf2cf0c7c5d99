"""Lift entries per lift and day: what the property company and the county read about e-bikes in lifts.

Every object of a counted class entering an elevator zone is one entry (service/hazards/engine.py), whether it
left within the zone's dwell or stayed and opened a hazard; the ratio says how often the warning worked.
"""

from __future__ import annotations

from datetime import date, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.actions.errors import Invalid
from service.auth.keys import Principal
from service.config.duties import ZoneType
from service.config.site import Site
from service.store.scope import visible_compound_ids
from service.store.watch_models import LiftEntry

MAX_DAYS = 92


class LiftDay(BaseModel):
    day: date = Field(description="the site's date")
    camera_id: str
    zone: str
    name: str = Field(description="the lift's name in the site file")
    compound_id: str
    entries: int = Field(description="objects of a counted class seen entering")
    hazards: int = Field(description="of those, how many stayed past the dwell and opened a hazard")


def lift_days(session: Session, who: Principal, site: Site, first: date, last: date) -> list[LiftDay]:
    """Entries per lift and day in [first, last] (site dates), for the lifts the caller may see; every lift of
    the site appears on every day, with zeros, so a quiet lift is told from one whose camera sends nothing."""
    if last < first:
        raise Invalid("'to' is before 'from'")
    if (last - first).days >= MAX_DAYS:
        raise Invalid(f"at most {MAX_DAYS} days at a time")
    visible = visible_compound_ids(session, who)
    lifts = [
        (camera, zone)
        for camera in site.cameras
        for zone in camera.zones
        if zone.type == ZoneType.elevator and (visible is None or camera.compound in visible)
    ]
    if not lifts:
        return []
    rows = session.execute(
        select(LiftEntry.day, LiftEntry.camera_id, LiftEntry.zone_key, func.count(), func.count(LiftEntry.hazard_id))
        .where(LiftEntry.day >= first.isoformat(), LiftEntry.day <= last.isoformat())
        .where(LiftEntry.camera_id.in_(sorted({camera.id for camera, _ in lifts})))
        .group_by(LiftEntry.day, LiftEntry.camera_id, LiftEntry.zone_key)
    ).all()
    counted = {(day, camera, zone): (entries, hazards) for day, camera, zone, entries, hazards in rows}
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    found = []
    for day in days:
        for camera, zone in lifts:
            entries, hazards = counted.get((day.isoformat(), camera.id, zone.id), (0, 0))
            name = zone.name or camera.name or zone.id
            found.append(
                LiftDay(
                    day=day,
                    camera_id=camera.id,
                    zone=zone.id,
                    name=name,
                    compound_id=camera.compound,
                    entries=entries,
                    hazards=hazards,
                )
            )
    return found
