"""Lift commands: the immediate message to a lift controller or a speaker when an e-bike is in a lift.

Apart from the hazard message, because a machine acts on it at once: "alert" when a hazard opens in an
elevator zone (the controller holds the door, the speaker warns, as the zone's `lift_commands` say), "release"
when that hazard ends (the object left, it was rectified, or the property company released a false alarm).
A channel receives lift commands only when it lists `lift_command` in its `events` (a webhook or MQTT channel,
usually the property company's), and then nothing else unless it lists that too. Commands go through the
outbox like every message: committed with the change, one idempotency key each, retried (docs/lifts.md).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config.duties import ZoneType
from service.config.site import Site
from service.store import models as m
from service.store.delivery_models import Delivery
from service.store.lifecycle import HazardStatus

LIFT_SCHEMA = "clearway.lift_command/1"
LIFT_EVENT = "lift_command"
RELEASE_ON = ("cleared", "dismissed", "rectified")


def is_lift_command(event: dict) -> bool:
    return event.get("schema") == LIFT_SCHEMA


def lift_command(session: Session, hazard: m.HazardEvent, entry: m.HazardHistory) -> str | None:
    """ "alert", "release" or None: what this history row tells the lift's controller."""
    if hazard.zone_type != ZoneType.elevator.value:
        return None
    if entry.action == "opened":
        return "alert" if hazard.status != HazardStatus.pending_review.value else None  # suspected: not yet
    if entry.action in RELEASE_ON and _alerted(session, hazard.id):
        return "release"
    return None


def _alerted(session: Session, hazard_id: int) -> bool:
    query = select(Delivery.id).where(Delivery.hazard_id == hazard_id, Delivery.event == LIFT_EVENT).limit(1)
    return session.scalars(query).first() is not None


def lift_event(hazard: m.HazardEvent, entry: m.HazardHistory, command: str, site: Site) -> dict:
    """The command as sent (JSON), small enough for a controller to parse."""
    camera = site.camera(hazard.camera_id) if hazard.camera_id else None
    zone = camera.zone(hazard.zone_key) if camera is not None and hazard.zone_key else None
    return {
        "schema": LIFT_SCHEMA,
        "event": LIFT_EVENT,
        "command": command,
        "actions": list(zone.effective_lift_commands) if zone is not None and command == "alert" else [],
        "reason": entry.action,
        "event_id": entry.id,
        "occurred_at": entry.at.isoformat(),
        "hazard": {
            "id": hazard.id,
            "compound": {"id": hazard.compound_id},
            "camera": {"id": hazard.camera_id, "name": camera.name if camera else ""},
            "zone": {"id": hazard.zone_key, "name": zone.name if zone else ""},
            "object": hazard.class_name,
            "confidence": round(hazard.confidence, 4),
        },
    }
