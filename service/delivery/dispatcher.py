"""The dispatcher: claim due outbox rows, send them, record the outcome.

Claiming is a short transaction that pushes `next_attempt_at` one lease ahead (PostgreSQL: `FOR UPDATE SKIP
LOCKED`, so several dispatchers share the work). If the process dies between sending and marking, the lease
runs out and the row is sent again with the same idempotency key: at-least-once, and receivers drop the
duplicate. Failures back off exponentially with jitter until the row's maximum age, then it is `dead` with
the last error kept. `run_once(now)` is the whole algorithm, for tests and for the background thread.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.config.site import Site
from service.delivery.channels import DeliveryError, Message, Senders
from service.delivery.cooldown import announced
from service.delivery.settings import DeliverySettings
from service.store import models as m
from service.store.campaign_models import ReportTamperedError, report_file
from service.store.db import Database, utcnow
from service.store.delivery_models import DEAD, DELIVERED, PENDING, Delivery
from service.store.evidence import EvidenceTamperedError
from service.store.hazard_writer import HazardWriter
from service.store.lifecycle import ACTIVE, HazardStatus

log = logging.getLogger("clearway.delivery")
ERROR_LIMIT = 2000


@dataclass(frozen=True)
class Claimed:
    """A snapshot of a claimed row, so sending needs no open transaction."""

    id: int
    key: str
    hazard_id: int | None
    report_id: int | None
    event: str
    agency_id: str
    agency_kind: str
    channel: str
    attempts: int
    expires_at: datetime
    payload: dict


@dataclass
class Outcome:
    claimed: Claimed
    status: str  # delivered | retry | dead
    error: str | None = None
    retry_after: float | None = None


@dataclass
class DispatchStats:
    claimed: int = 0
    delivered: int = 0
    retried: int = 0
    dead: int = 0
    outcomes: list[Outcome] = field(default_factory=list, repr=False)


AfterSend = Callable[[Outcome], None]


class Dispatcher:
    def __init__(
        self,
        db: Database,
        site: Callable[[], Site],
        settings: DeliverySettings,
        writer: HazardWriter,
        senders: Senders | None = None,
        registry: CollectorRegistry | None = None,
        rng: random.Random | None = None,
        after_send: AfterSend | None = None,
    ) -> None:
        self.db = db
        self.site = site
        self.settings = settings
        self.writer = writer
        self.evidence = writer.evidence
        self.senders = senders or Senders()
        self.rng = rng or random.Random()
        self.after_send = after_send  # test hook: runs after the send, before the outcome is recorded
        self.postgres = db.engine.dialect.name == "postgresql"
        self._pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="clearway-send")
        self._sent = Counter(
            "clearway_deliveries_total",
            "Delivery attempts by channel type and outcome",
            ["channel_type", "outcome"],
            registry=registry or CollectorRegistry(),
        )

    # --- the algorithm -------------------------------------------------------------------------------
    def run_once(self, now: datetime | None = None) -> DispatchStats:
        """Claim one batch of due rows, send them (concurrently), record the outcomes."""
        claimed = self._claim(now or utcnow())
        stats = DispatchStats(claimed=len(claimed))
        if not claimed:
            return stats
        outcomes = [
            o for group in self._pool.map(self._attempt_in_order, self._by_conversation(claimed)) for o in group
        ]
        self._record(outcomes, now or utcnow())
        stats.delivered = sum(o.status == DELIVERED for o in outcomes)
        stats.retried = sum(o.status == "retry" for o in outcomes)
        stats.dead = sum(o.status == DEAD for o in outcomes)
        stats.outcomes = outcomes
        return stats

    def _claim(self, now: datetime) -> list[Claimed]:
        with self.db.session() as session:
            query = (
                select(Delivery)
                .where(Delivery.status == PENDING, Delivery.next_attempt_at <= now)
                .order_by(Delivery.next_attempt_at, Delivery.id)
                .limit(self.settings.batch_size)
            )
            if self.postgres:
                query = query.with_for_update(skip_locked=True)
            rows = list(session.scalars(query))
            lease = now + timedelta(seconds=self.settings.lease_s)
            for row in rows:
                row.attempts += 1
                row.last_attempt_at = now
                row.next_attempt_at = lease
            return [
                Claimed(
                    r.id,
                    r.idempotency_key,
                    r.hazard_id,
                    r.report_id,
                    r.event,
                    r.agency_id,
                    r.agency_kind,
                    r.channel,
                    r.attempts,
                    r.expires_at,
                    r.payload,
                )
                for r in rows
            ]

    @staticmethod
    def _by_conversation(claimed: list[Claimed]) -> list[list[Claimed]]:
        """One hazard's messages to one channel go one after another, oldest first; the rest in parallel."""
        groups: dict[tuple[str, str, int | None], list[Claimed]] = {}
        for item in sorted(claimed, key=lambda c: c.id):
            groups.setdefault((item.agency_id, item.channel, item.hazard_id), []).append(item)
        return list(groups.values())

    def _attempt_in_order(self, group: list[Claimed]) -> list[Outcome]:
        return [self._attempt(claimed) for claimed in group]

    def _attempt(self, claimed: Claimed) -> Outcome:
        agency = self.site().agency(claimed.agency_id)
        channel = next((c for c in agency.channels if c.key == claimed.channel), None) if agency else None
        if channel is None:
            outcome = Outcome(claimed, DEAD, f"channel {claimed.channel!r} of {claimed.agency_id!r} is not configured")
        else:
            message = Message(
                claimed.id,
                claimed.key,
                claimed.attempts,
                claimed.payload,
                image=lambda kind: self._file(claimed, kind),
                camera_state=lambda: self._camera_state(claimed.payload["hazard"]["camera"]["id"]),
            )
            try:
                self.senders.send(channel, message)
                outcome = Outcome(claimed, DELIVERED)
            except DeliveryError as exc:
                outcome = Outcome(claimed, DEAD if exc.permanent else "retry", str(exc), exc.retry_after)
            except Exception as exc:  # a bug in a sender must not stop the others; retry, keep the error
                log.exception("delivery %s: unexpected failure", claimed.id)
                outcome = Outcome(claimed, "retry", f"{type(exc).__name__}: {exc}")
            self._sent.labels(channel_type=channel.type, outcome=outcome.status).inc()
        if self.after_send is not None:
            self.after_send(outcome)
        return outcome

    def _record(self, outcomes: list[Outcome], now: datetime) -> None:
        with self.db.session() as session:
            delivered = [o.claimed.id for o in outcomes if o.status == DELIVERED]
            if delivered:
                session.execute(
                    update(Delivery)
                    .where(Delivery.id.in_(delivered), Delivery.status == PENDING)
                    .values(status=DELIVERED, delivered_at=now, last_error=None)
                    .execution_options(synchronize_session=False)
                )
            for outcome in outcomes:
                if outcome.status != DELIVERED:
                    self._record_failure(session, outcome, now)
            heard = {
                hazard_id: o.claimed
                for o in outcomes
                if o.status == DELIVERED and o.claimed.agency_kind == "property_company"
                for hazard_id in announced(o.claimed.event, o.claimed.hazard_id, o.claimed.payload)
            }  # its "opened", or a cooldown digest listing it
            if heard:
                self._mark_notified(session, heard)

    def _record_failure(self, session: Session, outcome: Outcome, now: datetime) -> None:
        row = session.get(Delivery, outcome.claimed.id, with_for_update=True, populate_existing=True)
        if row is None or row.status != PENDING or row.attempts != outcome.claimed.attempts:
            return  # settled meanwhile, or re-claimed by another dispatcher after our lease ran out
        error = (outcome.error or "")[:ERROR_LIMIT]
        if outcome.status == "retry":
            due = now + timedelta(seconds=self.backoff(row.attempts, outcome.retry_after))
            if due <= row.expires_at:
                row.next_attempt_at, row.last_error = due, error
                return
            error = f"gave up after {row.attempts} attempts (maximum age reached); last error: {error}"[:ERROR_LIMIT]
        row.status, row.last_error = DEAD, error
        log.warning("delivery %s to %s/%s is dead: %s", row.id, row.agency_id, row.channel, error)

    def _mark_notified(self, session: Session, heard: dict[int, Claimed]) -> None:
        """The property company has heard: open -> notified (only if nobody moved it on meanwhile)."""
        query = (
            select(m.HazardEvent)
            .where(m.HazardEvent.id.in_(sorted(heard)), m.HazardEvent.status == HazardStatus.open.value)
            .order_by(m.HazardEvent.id)  # one lock order for every dispatcher: no deadlocks
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for hazard in session.scalars(query):
            claimed = heard[hazard.id]
            note = f"delivered to {claimed.agency_id} via {claimed.channel}"
            params = {"agency": claimed.agency_id, "channel": claimed.channel}
            self.writer.transition(session, hazard, HazardStatus.notified, "system:delivery", note, params)

    def backoff(self, attempts: int, retry_after: float | None = None) -> float:
        """Exponential with 'equal jitter': half the step fixed, half random; never sooner than Retry-After."""
        step = min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2 ** max(0, attempts - 1))
        delay = step / 2 + self.rng.uniform(0, step / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.settings.backoff_max_s))
        return delay

    # --- what senders may ask for --------------------------------------------------------------------
    def _file(self, claimed: Claimed, kind: str) -> tuple[bytes, str] | None:
        """A hazard's evidence image, or a campaign report's pdf or xlsx."""
        if claimed.report_id is not None:
            try:
                with self.db.session() as session:
                    return report_file(session, claimed.report_id, kind)
            except ReportTamperedError as exc:
                log.warning("report %s %s not sent: %s", claimed.report_id, kind, exc)
                return None
        return self._image(claimed.hazard_id, kind) if claimed.hazard_id is not None else None

    def _image(self, hazard_id: int, kind: str) -> tuple[bytes, str] | None:
        with self.db.session() as session:
            item = session.scalars(
                select(m.Evidence).where(m.Evidence.hazard_id == hazard_id, m.Evidence.kind == kind).limit(1)
            ).first()
        if item is None:
            return None
        try:
            return self.evidence.read_verified(item.path, item.sha256), item.media_type
        except (FileNotFoundError, EvidenceTamperedError) as exc:
            log.warning("hazard %s %s evidence not sent: %s", hazard_id, kind, exc)
            return None

    def _camera_state(self, camera_id: str) -> dict:
        with self.db.session() as session:
            hazards = list(
                session.scalars(
                    select(m.HazardEvent)
                    .where(m.HazardEvent.camera_id == camera_id, m.HazardEvent.status.in_(ACTIVE))
                    .order_by(m.HazardEvent.id)
                )
            )
        return {
            "camera": camera_id,
            "state": "hazard" if hazards else "clear",
            "active_hazards": len(hazards),
            "hazards": [
                {
                    "id": h.id,
                    "status": h.status,
                    "zone": h.zone_key,
                    "zone_type": h.zone_type,
                    "category": h.category,
                    "opened_at": h.opened_at.isoformat(),
                }
                for h in hazards
            ],
            "updated_at": utcnow().isoformat(),
        }

    # --- background thread ---------------------------------------------------------------------------
    def serve(self, stop: threading.Event, wake: threading.Event) -> None:
        """Loop until `stop`: a full batch goes again at once, otherwise wait for a commit or the poll."""
        while not stop.is_set():
            try:
                stats = self.run_once()
            except Exception:
                log.exception("dispatcher round failed; retrying after the poll interval")
                stats = DispatchStats()
            if stats.claimed >= self.settings.batch_size:
                continue
            wake.wait(self.settings.poll_interval_s)
            wake.clear()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        self.senders.close()
