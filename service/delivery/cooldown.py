"""The cooldown: after a hazard of a zone closes, the zone does not alert the same recipient again for a while.

A camera zone that flaps (a parked car lost by the tracker and found again, a bicycle moved to and fro) would
otherwise send a new "New hazard" every few minutes. The rule, per recipient channel (agency + channel):

- A hazard's "opened" to a channel is *held* when the last hazard of the same camera zone whose "opened" was
  sent (not held) to that channel is closed, and closed less than the cooldown before this hazard opened (both
  by the server's clock).
  While that hazard is still open a new one alerts as usual: it is a second obstruction, not a repeat.
- The window is that closed hazard's `closed_at` to `closed_at + cooldown` (fixed: more held hazards do not
  stretch it). Its key is `<closed hazard id>:<agency>:<channel>`; one digest per key lists what was held.
- Later events of a held hazard to the same channel (acknowledged, cleared, ...) are held in the same window
  until the digest is made; after it they go as usual.
- Never held: escalations ("escalated"), and hazards that are major when they open (a fire lane narrowed
  below the minimum clear width).
- The cooldown is the channel's `cooldown`, else the zone's, else the site's `cooldown` (default 0: none).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config.site import Agency, Site
from service.delivery.config import Channel
from service.store import models as m
from service.store.db import utcnow
from service.store.delivery_models import HELD, Delivery
from service.store.lifecycle import CLOSED

NEVER_HELD = ("escalated",)
CLOSED_STATUSES = tuple(s.value for s in CLOSED)


@dataclass(frozen=True)
class Hold:
    """Where a held delivery waits: its window and when the window ends."""

    window_key: str
    held_until: datetime


def cooldown_for(site: Site, hazard: m.HazardEvent, channel: Channel) -> timedelta:
    """The channel's cooldown, else the zone's, else the site's."""
    if channel.cooldown is not None:
        return channel.cooldown
    camera = site.camera(hazard.camera_id) if hazard.camera_id else None
    zone = camera.zone(hazard.zone_key) if camera and hazard.zone_key else None
    if zone is not None and zone.cooldown is not None:
        return zone.cooldown
    return site.cooldown


def window_key(after_hazard_id: int, agency_id: str, channel_key: str) -> str:
    return f"{after_hazard_id}:{agency_id}:{channel_key}"


def hold_for(
    session: Session, site: Site, hazard: m.HazardEvent, entry: m.HazardHistory, agency: Agency, channel: Channel
) -> Hold | None:
    """The window this delivery waits in, or None: send it now."""
    if entry.action in NEVER_HELD or not hazard.camera_id or not hazard.zone_key:
        return None
    if entry.action != "opened":
        return _held_opened(session, hazard.id, agency.id, channel.key)
    if hazard.severity == "major":
        return None
    cooldown = cooldown_for(site, hazard, channel)
    if cooldown <= timedelta(0):
        return None
    previous = session.scalars(
        select(m.HazardEvent)
        .join(Delivery, Delivery.hazard_id == m.HazardEvent.id)
        .where(
            m.HazardEvent.camera_id == hazard.camera_id,
            m.HazardEvent.zone_key == hazard.zone_key,
            m.HazardEvent.id != hazard.id,
            Delivery.event == "opened",
            Delivery.agency_id == agency.id,
            Delivery.channel == channel.key,
            Delivery.status != HELD,
        )
        .order_by(m.HazardEvent.opened_at.desc(), m.HazardEvent.id.desc())
        .limit(1)
    ).first()
    if previous is None or previous.status not in CLOSED_STATUSES or previous.closed_at is None:
        return None
    ends = previous.closed_at + cooldown
    opened = entry.at or utcnow()  # the server's clock, as `closed_at` (a camera's clock may be off)
    if not previous.closed_at <= opened < ends:
        return None
    return Hold(window_key(previous.id, agency.id, channel.key), ends)


def _held_opened(session: Session, hazard_id: int, agency_id: str, channel_key: str) -> Hold | None:
    """A later event of a hazard whose "opened" is still waiting for its digest waits with it."""
    row = session.scalars(
        select(Delivery).where(
            Delivery.hazard_id == hazard_id,
            Delivery.event == "opened",
            Delivery.agency_id == agency_id,
            Delivery.channel == channel_key,
            Delivery.status == HELD,
            Delivery.digest_id.is_(None),
        )
    ).first()
    if row is None or row.window_key is None or row.held_until is None:
        return None
    return Hold(row.window_key, row.held_until)


def announced(event: str, hazard_id: int | None, payload: dict) -> list[int]:
    """The hazards a delivered message told its recipient about for the first time (open -> notified)."""
    if event == "opened" and hazard_id is not None:
        return [hazard_id]
    if event == "digest":
        return [int(h["id"]) for h in payload.get("hazards", [])]
    return []
