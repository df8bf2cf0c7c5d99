"""The transactional outbox: delivery rows written inside the transaction of the hazard change.

The outbox is the `HistorySink` of the runtime's `HazardWriter` (service/store/hazard_writer.py): the writer
hands it every history row in the same session, and it adds one pending delivery per recipient channel, or
a `held` one where the zone's cooldown holds it for a digest (service/delivery/cooldown.py, digest.py).
`wake_on_commit(db)` lets the dispatcher start as soon as such rows are committed instead of at its next poll.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from sqlalchemy import event as sa_event
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.config.duties import COMPOUND_BOUND
from service.config.site import Agency, Site
from service.delivery.config import DELIVERED_EVENTS, Channel
from service.delivery.cooldown import hold_for
from service.delivery.lift_commands import LIFT_EVENT, lift_command, lift_event
from service.delivery.messages import build_event
from service.delivery.settings import DeliverySettings
from service.metrics import Metrics
from service.store import models as m
from service.store.db import Database, utcnow
from service.store.delivery_models import DEAD, HELD, PENDING, Delivery, DeliveryDigest

WROTE_KEY = "clearway.outbox.wrote"
HELD_KEY = "clearway.outbox.held"  # deliveries held in this transaction, counted once it commits


def idempotency_key(history_id: int) -> str:
    """A new key for one message to one channel, stored with its delivery row: every retry and re-drive carries
    the same key, and no other message anywhere ever has it. The 96 random bits make keys of two databases
    (a restored backup reusing row ids, staging and production sharing a receiver) differ; the id is for people."""
    return f"cw-{history_id}-{secrets.token_hex(12)}"


def report_key(report_id: int) -> str:
    """A campaign report's key, the same way, in its own namespace (cw-r...)."""
    return f"cw-r{report_id}-{secrets.token_hex(12)}"


def digest_key(digest_id: int) -> str:
    """A cooldown digest's key, the same way, in its own namespace (cw-d...)."""
    return f"cw-d{digest_id}-{secrets.token_hex(12)}"


def responsible(site: Site, agency: Agency, compound_id: str) -> bool:
    """Compound-bound agencies hear only of their own compounds; county-wide ones of every compound."""
    compound = site.compound(compound_id)
    if compound is None:
        return False
    if agency.kind in COMPOUND_BOUND:
        return agency.id in (compound.agency_of(agency.kind), compound.township)  # a township stands in
    return True


class Outbox:
    """Turns history rows into delivery rows for every configured channel of every recipient."""

    def __init__(self, site: Callable[[], Site], settings: DeliverySettings, metrics: Metrics | None = None) -> None:
        self.site = site
        self.settings = settings
        self.metrics = metrics or Metrics()  # the runtime's; a private registry otherwise
        self.wake = threading.Event()

    def wake_on_commit(self, db: Database) -> None:
        """Wake the dispatcher when a transaction of `db` that wrote deliveries commits."""
        if not sa_event.contains(db.sessions, "after_commit", _after_commit):
            sa_event.listen(db.sessions, "after_commit", _after_commit)
            sa_event.listen(db.sessions, "after_rollback", _after_rollback)

    def history_added(self, session: Session, hazard: m.HazardEvent, entry: m.HazardHistory) -> None:
        self.enqueue(session, hazard, entry)

    def enqueue(self, session: Session, hazard: m.HazardEvent, entry: m.HazardHistory) -> int:
        """Add one pending (or held) delivery per recipient channel, and a lift command where the change asks
        for one; returns how many."""
        command = lift_command(session, hazard, entry)
        lifted = self._enqueue_lift(session, hazard, entry, command) if command is not None else 0
        if entry.action not in DELIVERED_EVENTS:
            return lifted
        recipients = list(
            session.scalars(
                select(m.HazardRecipient).where(m.HazardRecipient.hazard_id == hazard.id).order_by(m.HazardRecipient.id)
            )
        )
        site = self.site()
        targets = [
            (r, a)
            for r, a in ((r, site.agency(r.agency_id)) for r in recipients)
            if a is not None and a.channels and responsible(site, a, hazard.compound_id)
        ]
        if not targets:
            return lifted
        event = build_event(session, hazard, entry, site, self.settings.public_url)
        count = held = 0
        for recipient, agency in targets:
            for channel in agency.channels:
                if channel.accepts(entry.action, hazard.compound_id):
                    key = idempotency_key(entry.id)
                    row = self._row(key, event, agency, channel, recipient.reason, hazard.id, entry.id, None)
                    hold = hold_for(session, site, hazard, entry, agency, channel)
                    if hold is not None:
                        row.status, row.window_key, row.held_until = HELD, hold.window_key, hold.held_until
                        held += 1
                    session.add(row)
                    count += 1
        if count:
            session.info[WROTE_KEY] = self
        if held:
            session.info[HELD_KEY] = session.info.get(HELD_KEY, 0) + held
        return count + lifted

    def _enqueue_lift(self, session: Session, hazard: m.HazardEvent, entry: m.HazardHistory, command: str) -> int:
        """The lift command to every channel of the compound's agencies that listens for them; never held."""
        site = self.site()
        event = lift_event(hazard, entry, command, site)
        count = 0
        for agency in site.agencies:
            if not responsible(site, agency, hazard.compound_id):
                continue
            for channel in agency.channels:
                if channel.accepts(LIFT_EVENT, hazard.compound_id):
                    key = idempotency_key(entry.id)
                    session.add(self._row(key, event, agency, channel, "lift", hazard.id, entry.id, None))
                    count += 1
        if count:
            session.info[WROTE_KEY] = self
        return count

    def enqueue_digest(self, session: Session, digest: DeliveryDigest, event: dict) -> int:
        """The digest's one pending delivery to the channel whose messages it sums up; 0 if that channel is gone."""
        agency = self.site().agency(digest.agency_id)
        channel = next((c for c in agency.channels if c.key == digest.channel), None) if agency else None
        if agency is None or channel is None:
            return 0
        row = self._row(digest_key(digest.id), event, agency, channel, "digest", None, None, None)
        row.digest_id = digest.id
        session.add(row)
        session.info[WROTE_KEY] = self
        return 1

    def enqueue_report(self, session: Session, report_id: int, event: dict, agency_ids: Iterable[str]) -> int:
        """One pending delivery of a campaign report per channel of each recipient agency; returns how many."""
        site = self.site()
        count = 0
        for agency in (site.agency(a) for a in dict.fromkeys(agency_ids)):
            for channel in agency.channels if agency else ():
                if channel.events is None or event["event"] in channel.events:
                    key = report_key(report_id)
                    session.add(self._row(key, event, agency, channel, "report", None, None, report_id))
                    count += 1
        if count:
            session.info[WROTE_KEY] = self
        return count

    def _row(
        self,
        key: str,
        event: dict,
        agency: Agency,
        channel: Channel,
        reason: str,
        hazard_id: int | None,
        history_id: int | None,
        report_id: int | None,
    ) -> Delivery:
        now = utcnow()
        recipient = {"agency_id": agency.id, "agency_kind": agency.kind.value, "channel": channel.key, "reason": reason}
        return Delivery(
            idempotency_key=key,
            hazard_id=hazard_id,
            history_id=history_id,
            report_id=report_id,
            event=event["event"],
            agency_id=agency.id,
            agency_kind=agency.kind.value,
            channel=channel.key,
            channel_type=channel.type,
            status=PENDING,
            created_at=now,
            next_attempt_at=now,
            expires_at=now + timedelta(seconds=self.settings.max_age_s),
            payload=event | {"idempotency_key": key, "recipient": recipient},
        )


def _after_commit(session: Session) -> None:
    """Wake the dispatcher as soon as new rows are visible, instead of at its next poll."""
    outbox = session.info.pop(WROTE_KEY, None)
    held = session.info.pop(HELD_KEY, 0)
    if isinstance(outbox, Outbox):
        if held:
            outbox.metrics.deliveries_held.labels(reason="cooldown").inc(held)
        outbox.wake.set()


def _after_rollback(session: Session) -> None:
    session.info.pop(WROTE_KEY, None)
    session.info.pop(HELD_KEY, None)


def redrive(session: Session, ids: Iterable[int] | None, now: datetime, max_age_s: float, **filters: object) -> int:
    """Dead deliveries back to pending, due now, with a fresh maximum age; their keys do not change."""
    query = update(Delivery).where(Delivery.status == DEAD)
    if ids is not None:
        query = query.where(Delivery.id.in_(list(ids)))
    for column, value in filters.items():
        if value is not None:
            query = query.where(getattr(Delivery, column) == value)
    values = {"status": PENDING, "next_attempt_at": now, "expires_at": now + timedelta(seconds=max_age_s)}
    return session.execute(query.values(**values).execution_options(synchronize_session=False)).rowcount or 0
