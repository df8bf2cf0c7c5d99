"""Zones and masks edited in the web editor, stored per camera and laid over the site file.

The site file stays the source for everything else (agencies, compounds, cameras, routing); a camera's
override replaces only its `zones` and `masks`. Every save is validated as a whole site with the same
pydantic models as the file (so an error names its exact path), then applied to the running pipeline.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config.site import Site, SiteConfigError, parse_site
from service.store.db import Database, utcnow
from service.store.models import CameraOverride

log = logging.getLogger("clearway.site_overrides")


class StaleEditError(RuntimeError):
    """Someone else saved this camera's zones since the editor loaded them."""


@dataclass(frozen=True)
class SavedZones:
    site: Site
    revision: int


def site_with(site: Site, camera_id: str, zones: list, masks: list, origin: str = "zone editor") -> Site:
    """`site` with one camera's zones and masks replaced, validated (SiteConfigError with exact paths)."""
    data = site.model_dump(mode="json", exclude_none=False)
    index = next((i for i, c in enumerate(data["cameras"]) if c["id"] == camera_id), None)
    if index is None:
        raise SiteConfigError(f"camera {camera_id!r} is not in the site file")
    data["cameras"][index]["zones"] = zones
    data["cameras"][index]["masks"] = masks
    return parse_site(data, origin=origin)


def apply_overrides(db: Database, site: Site) -> Site:
    """The site with every stored camera override applied; an override that no longer fits is skipped."""
    with db.session() as session:
        rows = list(session.scalars(select(CameraOverride)))
    for row in rows:
        if site.camera(row.camera_id) is None:
            log.warning("zone override for camera %s ignored: camera no longer in the site file", row.camera_id)
            continue
        try:
            site = site_with(site, row.camera_id, row.zones, row.masks, origin=f"saved zones of {row.camera_id}")
        except SiteConfigError as exc:
            log.warning("zone override for camera %s ignored: %s", row.camera_id, exc)
    return site


def current_revision(session: Session, camera_id: str) -> int:
    row = session.get(CameraOverride, camera_id)
    return row.revision if row else 0


def save_override(
    session: Session, site: Site, camera_id: str, zones: list, masks: list, actor: str, base_revision: int
) -> SavedZones:
    """Validate and store one camera's zones; refuses a save based on an older revision (StaleEditError)."""
    new_site = site_with(site, camera_id, zones, masks)
    camera = new_site.camera(camera_id)
    assert camera is not None
    row = session.get(CameraOverride, camera_id, with_for_update=True)
    revision = row.revision if row else 0
    if base_revision != revision:
        raise StaleEditError(f"zones of {camera_id} were saved by someone else (revision {revision}); reload")
    stored_zones = [z.model_dump(mode="json", exclude_none=True) for z in camera.zones]
    stored_masks = [[list(p) for p in mask] for mask in camera.masks]
    if row is None:
        row = CameraOverride(camera_id=camera_id, zones=stored_zones, masks=stored_masks, revision=0, updated_by=actor)
        session.add(row)
    row.zones, row.masks, row.revision = stored_zones, stored_masks, revision + 1
    row.updated_by, row.updated_at = actor, utcnow()
    session.flush()
    return SavedZones(new_site, row.revision)
