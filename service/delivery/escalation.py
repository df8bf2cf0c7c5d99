"""Escalation: when the property company misses a deadline, the hazard climbs one step of the ladder.

Nothing is kept in memory: what is due is derived from the hazards and the escalations already recorded,
so a restart (or a long outage) simply catches up. Each escalation is a `hazard_escalations` row, new
recipients (reason "escalation") and an "escalated" history entry, in one transaction; the history entry
makes the outbox deliver it to every recipient. Two schedulers never escalate the same hazard twice: the
hazard row is locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL) and (hazard, stage) is unique.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from service.config.site import Site
from service.hazards.routing import agencies_of
from service.store import models as m
from service.store.db import Database, utcnow
from service.store.delivery_models import HazardEscalation
from service.store.hazard_writer import HazardWriter
from service.store.lifecycle import ACTIVE, HazardStatus

log = logging.getLogger("clearway.escalation")
ACTOR = "system:escalation"
UNACKNOWLEDGED = (HazardStatus.open.value, HazardStatus.notified.value)


@dataclass(frozen=True)
class Escalated:
    hazard_id: int
    stage: str  # acknowledge | rectify | major
    level: int
    agency_ids: tuple[str, ...]


def ladder_agencies(site: Site, compound_id: str, kinds: tuple[str, ...]) -> list[tuple[str, str]]:
    """(agency id, kind) for one ladder step: the compound's own for bound kinds, all others of the kind."""
    compound = site.compound(compound_id)
    return list(dict(a for kind in kinds for a in agencies_of(site, compound, kind)).items())


def due_stages(site: Site, hazard: m.HazardEvent, done: set[str], now: datetime) -> list[tuple[str, datetime]]:
    """The stages this hazard should be escalated for now, in order, each with the deadline it missed."""
    config = site.escalation
    acknowledge_by, rectify_by = hazard.acknowledge_due_at, hazard.rectify_due_at  # set when it was recorded
    if acknowledge_by is None or rectify_by is None:  # a hazard stored before deadlines were kept with it
        deadline = config.deadline_for(hazard.zone_type, hazard.category)
        acknowledge_by, rectify_by = hazard.opened_at + deadline.acknowledge, hazard.opened_at + deadline.rectify
    due: list[tuple[str, datetime]] = []
    if "acknowledge" not in done and hazard.status in UNACKNOWLEDGED and now >= acknowledge_by:
        due.append(("acknowledge", acknowledge_by))
    if "rectify" not in done and hazard.status in ACTIVE and now >= rectify_by:
        due.append(("rectify", rectify_by))
    if config.major_to_top and "major" not in done and hazard.confirmed and hazard.severity == "major":
        due.append(("major", now))
    return due


class EscalationScheduler:
    def __init__(self, db: Database, site: Callable[[], Site], writer: HazardWriter) -> None:
        self.db = db
        self.site = site
        self.writer = writer
        self.postgres = db.engine.dialect.name == "postgresql"

    def run_once(self, now: datetime | None = None) -> list[Escalated]:
        """Escalate every hazard that is due at `now`; returns what was done by this call."""
        now = now or utcnow()
        site = self.site()
        if not site.escalation.enabled:
            return []
        done: list[Escalated] = []
        for hazard_id in self._candidates(now - site.escalation.shortest):
            done += self._escalate(hazard_id, site, now)
        return done

    def _candidates(self, opened_before: datetime) -> list[int]:
        """Active hazards old enough for some deadline, not yet escalated for everything they can be."""
        stage = HazardEscalation.stage
        has = lambda name: exists().where(HazardEscalation.hazard_id == m.HazardEvent.id, stage == name)  # noqa: E731
        query = (
            select(m.HazardEvent.id)
            .where(
                m.HazardEvent.status.in_(ACTIVE),
                or_(
                    and_(m.HazardEvent.opened_at <= opened_before, ~has("rectify")),
                    and_(m.HazardEvent.confirmed.is_(True), m.HazardEvent.severity == "major", ~has("major")),
                ),
            )
            .order_by(m.HazardEvent.id)
        )
        with self.db.session() as session:
            return list(session.scalars(query))

    def _escalate(self, hazard_id: int, site: Site, now: datetime) -> list[Escalated]:
        try:
            with self.db.session() as session:
                return self._escalate_locked(session, hazard_id, site, now)
        except IntegrityError:  # another scheduler got there first (the unique constraint is the backstop)
            log.info("hazard %s: escalation already recorded by another instance", hazard_id)
            return []
        except OperationalError as exc:  # SQLite busy with another writer, a dropped connection: next round
            log.warning("hazard %s: escalation postponed: %s", hazard_id, str(exc).splitlines()[0])
            return []

    def _escalate_locked(self, session: Session, hazard_id: int, site: Site, now: datetime) -> list[Escalated]:
        query = select(m.HazardEvent).where(m.HazardEvent.id == hazard_id, m.HazardEvent.status.in_(ACTIVE))
        if self.postgres:
            query = query.with_for_update(skip_locked=True)
        hazard = session.scalars(query).first()
        if hazard is None:  # closed meanwhile, or another instance holds it right now
            return []
        previous = list(session.scalars(select(HazardEscalation).where(HazardEscalation.hazard_id == hazard_id)))
        level = max((e.level for e in previous), default=0)
        ladder = site.escalation.ladder
        recipients = select(m.HazardRecipient.agency_id).where(m.HazardRecipient.hazard_id == hazard_id)
        existing = set(session.scalars(recipients))
        results: list[Escalated] = []
        for stage, due_at in due_stages(site, hazard, {e.stage for e in previous}, now):
            level = len(ladder) if stage == "major" else min(level + 1, len(ladder))
            agencies = ladder_agencies(site, hazard.compound_id, ladder[level - 1])
            session.add(
                HazardEscalation(
                    hazard_id=hazard_id,
                    stage=stage,
                    level=level,
                    due_at=due_at,
                    escalated_at=now,
                    agency_ids=[a for a, _ in agencies],
                )
            )
            for agency_id, kind in agencies:
                if agency_id not in existing:
                    session.add(
                        m.HazardRecipient(
                            hazard_id=hazard_id, agency_id=agency_id, agency_kind=kind, reason="escalation"
                        )
                    )
                    existing.add(agency_id)
            session.flush()
            params = {
                "stage": stage,
                "due_at": due_at.isoformat(),
                "level": level,
                "agencies": [a for a, _ in agencies],
            }
            note = _note(stage, due_at.astimezone(site.zone), level, agencies)
            self.writer.record(session, hazard, "escalated", ACTOR, note, params=params)
            results.append(Escalated(hazard_id, stage, level, tuple(a for a, _ in agencies)))
        return results

    def serve(self, stop: threading.Event, interval_s: float) -> None:
        """Every interval (the first one after start-up has settled; deadlines are minutes long anyway)."""
        while not stop.wait(interval_s):
            try:
                self.run_once()
            except Exception:
                log.exception("escalation round failed; retrying after the interval")


def _note(stage: str, due_at: datetime, level: int, agencies: list[tuple[str, str]]) -> str:
    who = ", ".join(f"{agency} ({kind})" for agency, kind in agencies) or "nobody configured"
    if stage == "major":
        return f"confirmed as major: escalated for formal supervision to step {level}: {who}"
    return f"{stage} deadline {due_at:%Y-%m-%d %H:%M %z} missed: escalated to step {level}: {who}"
