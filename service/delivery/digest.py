"""The digest job: when a cooldown window has ended, one message to its channel lists the hazards it held.

Nothing is kept in memory: the windows due are the `held` deliveries not yet in a digest whose `held_until`
has passed, so a restart (or an outage) simply catches up. A digest is a `delivery_digests` row (unique
`window_key`), its held rows pointing at it and its one outbox delivery, in one transaction: two instances
racing for the same window make one digest (the other's insert fails the unique constraint and rolls back,
or, on PostgreSQL, its `FOR UPDATE` finds the rows already taken). A held row that arrives for a window
already summed up (a follow-up that raced the digest) is released to `pending`: its recipient has heard.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from service.config.site import Site
from service.delivery.digest_messages import build_digest_event
from service.delivery.outbox import Outbox
from service.store import models as m
from service.store.db import Database, utcnow
from service.store.delivery_models import HELD, PENDING, Delivery, DeliveryDigest

log = logging.getLogger("clearway.digest")


class DigestJob:
    def __init__(self, db: Database, site: Callable[[], Site], outbox: Outbox) -> None:
        self.db = db
        self.site = site
        self.outbox = outbox
        self.postgres = db.engine.dialect.name == "postgresql"

    def run_once(self, now: datetime | None = None) -> list[int]:
        """Make the digest of every window that has ended by `now`; returns the ids of those this call made."""
        now = now or utcnow()
        with self.db.session() as session:
            keys = sorted(
                set(
                    session.scalars(
                        select(Delivery.window_key).where(
                            Delivery.status == HELD, Delivery.digest_id.is_(None), Delivery.held_until <= now
                        )
                    )
                )
            )
        made: list[int] = []
        for key in keys:
            digest_id = self._window(key, now)
            if digest_id is not None:
                made.append(digest_id)
                self.outbox.metrics.digests_sent.inc()
        return made

    def _window(self, key: str, now: datetime) -> int | None:
        try:
            with self.db.session() as session:
                return self._make(session, key, now)
        except IntegrityError:  # another instance made this window's digest first
            log.info("cooldown window %s: digest already made by another instance", key)
            return None
        except OperationalError as exc:  # SQLite busy with another writer, a dropped connection: next round
            log.warning("cooldown window %s: digest postponed: %s", key, str(exc).splitlines()[0])
            return None

    def _make(self, session: Session, key: str, now: datetime) -> int | None:
        query = (
            select(Delivery)
            .where(Delivery.window_key == key, Delivery.status == HELD, Delivery.digest_id.is_(None))
            .order_by(Delivery.id)
        )
        if self.postgres:
            query = query.with_for_update()
        rows = list(session.scalars(query))
        if not rows:
            return None  # taken by another instance meanwhile
        existing = session.scalars(select(DeliveryDigest).where(DeliveryDigest.window_key == key)).first()
        if existing is not None:  # late follow-ups of a window already summed up: the recipient knows the hazard
            for row in rows:
                row.status, row.next_attempt_at = PENDING, utcnow()
            return None
        after_id = int(key.split(":", 1)[0])
        after = session.get(m.HazardEvent, after_id)
        window_end = max(r.held_until for r in rows if r.held_until is not None)
        hazard_ids = list(dict.fromkeys(r.hazard_id for r in rows if r.hazard_id is not None))
        hazards = list(session.scalars(select(m.HazardEvent).where(m.HazardEvent.id.in_(hazard_ids))))
        hazards.sort(key=lambda h: (h.opened_at, h.id))
        digest = DeliveryDigest(
            window_key=key,
            after_hazard_id=after.id if after else None,
            camera_id=hazards[0].camera_id if hazards else "",
            zone_key=hazards[0].zone_key if hazards else "",
            agency_id=rows[0].agency_id,
            channel=rows[0].channel,
            window_start=after.closed_at if after and after.closed_at else rows[0].created_at,
            window_end=window_end,
            made_at=now,
            hazard_ids=[h.id for h in hazards],
        )
        session.add(digest)
        session.flush()  # the unique window key: a second instance stops here
        for row in rows:
            row.digest_id = digest.id
        held: dict[int, list[str]] = {}
        for row in rows:
            if row.hazard_id is not None:
                held.setdefault(row.hazard_id, []).append(row.event)
        event = build_digest_event(digest, hazards, held, self.site(), self.outbox.settings.public_url)
        if not self.outbox.enqueue_digest(session, digest, event):
            log.warning(
                "cooldown window %s: channel %s of %s is gone; digest kept, not sent",
                key,
                digest.channel,
                digest.agency_id,
            )
        return digest.id
