"""The report schedule: every unit's weekly report at the Friday cut-off and the final summary, exactly once.

Nothing is kept in memory: what is due is derived from the campaign's periods and the reports already stored,
so a restart (or an outage over a Friday) simply catches up and sends what was missed. A report, its event
and its deliveries are one transaction; the unique (kind, period, unit) of `campaign_reports` makes a second
instance that made the same report at the same moment roll back instead of sending it twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError, OperationalError

from service.config.site import Site
from service.delivery.outbox import Outbox
from service.locale import translator
from service.periodic import Periodic
from service.reports.events import report_event
from service.reports.figures import Figures
from service.reports.making import Unit, made_units, make_report, report_units
from service.reports.periods import Period, due
from service.store.db import Database, utcnow

log = logging.getLogger("clearway.reports")
ACTOR = "system:reports"


@dataclass(frozen=True)
class Made:
    report_id: int
    kind: str
    period: str
    unit_id: str
    deliveries: int


class ReportScheduler:
    def __init__(self, db: Database, site: Callable[[], Site], outbox: Outbox, public_url: str) -> None:
        self.db = db
        self.site = site
        self.outbox = outbox
        self.public_url = public_url
        self._periodic = Periodic("clearway-reports", self.run_once)

    def run_once(self, now: datetime | None = None) -> list[Made]:
        """Make and send every report due by `now` that is not made yet; returns what this call made."""
        now = now or utcnow()
        site = self.site()
        if site.campaign is None:
            return []
        return [made for period in due(site.campaign, site.zone, now) for made in self.make_period(site, period, now)]

    def make_period(self, site: Site, period: Period, now: datetime) -> list[Made]:
        """Every unit's report for `period` that is not made yet."""
        with self.db.session() as session:
            done = made_units(session, period)
        made = (self._make(site, period, unit, now) for unit in report_units(site) if unit.id not in done)
        return [m for m in made if m is not None]

    def _make(self, site: Site, period: Period, unit: Unit, now: datetime) -> Made | None:
        campaign = site.campaign
        assert campaign is not None
        try:
            with self.db.session() as session:
                report = make_report(session, site, campaign, period, unit, ACTOR, now)
                figures = Figures.model_validate(report.figures)
                event = report_event(report, figures, translator(campaign.language), self.public_url)
                count = self.outbox.enqueue_report(session, report.id, event, unit.agency_ids)
                made = Made(report.id, period.kind, period.label, unit.id, count)
        except IntegrityError:  # another instance made this report first: it sends it
            log.info("%s report %s for %s: already made by another instance", period.kind, period.label, unit.id)
            return None
        except OperationalError as exc:  # SQLite busy, a dropped connection: the next round tries again
            log.warning("%s report %s for %s postponed: %s", period.kind, period.label, unit.id, exc)
            return None
        log.info("made %s report %s for %s: %d deliveries", period.kind, period.label, unit.id, made.deliveries)
        return made

    def start(self, interval_s: float) -> None:
        """Check at start-up (what was missed while down) and then every interval."""
        self._periodic.start(interval_s)

    def close(self) -> None:
        self._periodic.close()
