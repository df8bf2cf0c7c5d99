"""Mirror the site file into the database so hazards, scopes and reports can join on it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config.site import Site
from service.store import models as m


def sync_site(session: Session, site: Site) -> None:
    """Upsert agencies, compounds, cameras and zones. Nothing is deleted: old hazards keep their references."""
    for agency in site.agencies:
        session.merge(m.Agency(id=agency.id, name=agency.name, kind=agency.kind.value))
    session.flush()
    for compound in site.compounds:
        session.merge(
            m.Compound(
                id=compound.id,
                name=compound.name,
                address=compound.address,
                property_company_id=compound.property_company,
                police_station_id=compound.police_station,
                township_id=compound.township,
            )
        )
    session.flush()
    for camera in site.cameras:
        session.merge(m.Camera(id=camera.id, compound_id=camera.compound, name=camera.name, source=camera.source))
    session.flush()
    existing = {(z.camera_id, z.zone_key): z for z in session.scalars(select(m.Zone))}
    for camera in site.cameras:
        for zone in camera.zones:
            row = existing.get((camera.id, zone.id)) or m.Zone(camera_id=camera.id, zone_key=zone.id)
            row.type = zone.type.value
            row.name = zone.name
            row.polygon = [list(p) for p in zone.polygon]
            row.dwell_seconds = zone.effective_dwell_seconds
            row.categories = list(zone.effective_categories)
            session.add(row)
