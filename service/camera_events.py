"""Camera-level events: a camera offline for too long is itself a hazard (a blind camera hides obstructions).

Stored through the hazard writer as a hazard of kind `camera_offline`, routed by its duty to the compound's
property company (or its township), so it takes the same history, outbox and review path as any hazard;
cleared when the picture is back.
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from service.config.duties import HazardKind
from service.config.site import Site
from service.hazards.routing import assign
from service.sources.health import OfflineEvent
from service.store import models as m
from service.store.db import Database
from service.store.hazard_writer import HazardWriter, NewHazard
from service.store.lifecycle import ACTIVE

log = logging.getLogger("clearway.cameras")


def offline_key(camera_id: str) -> str:
    return f"{camera_id}/camera_offline"


def handle_offline_event(db: Database, writer: HazardWriter, site: Site, event: OfflineEvent) -> int | None:
    """Open (raised) or clear (cleared) the camera's offline hazard; returns the hazard id."""
    camera = site.camera(event.camera_id)
    compound = site.compound(camera.compound) if camera else None
    if camera is None or compound is None:
        return None
    with db.session() as session:
        active = session.scalars(
            select(m.HazardEvent).where(
                m.HazardEvent.camera_id == camera.id,
                m.HazardEvent.kind == "camera_offline",
                m.HazardEvent.status.in_(ACTIVE),
            )
        ).first()
        if event.action == "cleared":
            if active is not None:
                writer.clear(session, active, "camera picture is back", captured_at=event.at, why="camera_back")
            return active.id if active else None
        if active is not None:
            return active.id
        new = NewHazard(
            engine_key=f"{offline_key(camera.id)}/{event.down_since.isoformat()}",
            kind=HazardKind.camera_offline,
            camera_id=camera.id,
            compound_id=compound.id,
            zone_key="*",
            zone_type="camera",
            category="camera",
            class_name="camera_offline",
            first_seen_at=event.down_since,
            opened_at=event.at,
        )
        down_for = (event.at - event.down_since).total_seconds()
        note = f"camera {event.status} for {down_for:.0f} s" + (f": {event.last_error}" if event.last_error else "")
        params = {"status": event.status, "down_s": down_for, "error": event.last_error or ""}
        assignment = assign(site, compound.id, HazardKind.camera_offline, event.at)
        hazard = writer.open(session, new, assignment, note, params=params)
        log.warning("camera %s offline since %s", camera.id, event.down_since.isoformat())
        return hazard.id
