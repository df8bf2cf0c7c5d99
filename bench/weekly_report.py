"""Weekly campaign report at scale: how long one report takes over 100,000 hazards, and a whole Friday round.

    .venv/bin/python bench/weekly_report.py                 # 100,000 hazards on a temporary SQLite
    .venv/bin/python bench/weekly_report.py --database-url postgresql+psycopg://...   # an EMPTY database
    .venv/bin/python bench/weekly_report.py --smoke         # 2,000 hazards, proves it runs

A county of 40 compounds, 10 property companies, 4 police stations and 3 townships; hazards of every source
and kind spread over the campaign's first ten weeks (60 % rectified, 5 % false alarms, 10 % escalated, 1 %
supervised), bulk-inserted. Then, for the county's report of the tenth week: reading the facts, computing the
figures, drawing the PDF (with its charts) and the XLSX; and the scheduled round that makes every unit's report
for that week (11 reports) and queues their deliveries.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

os.environ.setdefault("YOLO_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, text

from service.config.site import Site, parse_site
from service.delivery.outbox import Outbox
from service.delivery.settings import DeliverySettings
from service.locale import translator
from service.reports.facts import load_facts
from service.reports.figures import compute
from service.reports.making import ReportViewer, figures_for, find_unit
from service.reports.periods import weeks
from service.reports.report_pdf import report_pdf
from service.reports.report_xlsx import report_xlsx
from service.reports.schedule import ReportScheduler
from service.store import models as m
from service.store.db import Database
from service.store.delivery_models import HazardEscalation
from service.store.migrate import upgrade
from service.store.site_sync import sync_site

KINDS = ["vehicle_in_fire_lane", "lane_obstruction", "stairwell_storage", "ebike_indoor", "blocked_exit"]
SOURCES = ["camera"] * 5 + ["inspection"] * 2 + ["self_inspection"] * 2 + ["resident"]
T = TypeVar("T")


def county_site() -> Site:
    agencies = [{"id": f"pm-{i}", "name": f"物业公司 {i}", "kind": "property_company"} for i in range(10)]
    agencies += [{"id": f"ps-{i}", "name": f"派出所 {i}", "kind": "police_station"} for i in range(4)]
    agencies += [{"id": f"ts-{i}", "name": f"镇 {i}", "kind": "township"} for i in range(3)]
    agencies += [{"id": "co", "name": "县安委办", "kind": "county_office"}]
    compounds = [
        {
            "id": f"c-{i}",
            "name": f"小区 {i}",
            "property_company": f"pm-{i % 10}",
            "police_station": f"ps-{i % 4}",
            "township": f"ts-{i % 3}",
        }
        for i in range(40)
    ]
    campaign = {"name": "住宅小区消防车道专项整治", "starts": "2026-11-02", "ends": "2027-01-31"}
    return parse_site({"agencies": agencies, "compounds": compounds, "cameras": [], "campaign": campaign})


def fill(db: Database, site: Site, count: int, until_week: int) -> None:
    rng = random.Random(11)
    all_weeks = weeks(site.campaign, site.zone)
    start, end = all_weeks[0].starts_at, all_weeks[until_week - 1].ends_at
    span = (end - start).total_seconds()
    hazards, escalations = [], []
    with db.engine.begin() as conn:
        for i in range(count):
            compound = site.compounds[rng.randrange(len(site.compounds))]
            opened = start + timedelta(seconds=rng.uniform(0, span))
            roll = rng.random()
            status = "rectified" if roll < 0.45 else "cleared" if roll < 0.6 else "dismissed" if roll < 0.65 else "open"
            hazards.append(
                {
                    "id": i + 1,
                    "engine_key": f"bench-{i}",
                    "kind": rng.choice(KINDS),
                    "source": rng.choice(SOURCES),
                    "compound_id": compound.id,
                    "zone_key": "",
                    "zone_type": "",
                    "category": "",
                    "class_name": "",
                    "status": status,
                    "severity": "major" if rng.random() < 0.01 else "minor",
                    "confidence": 1.0,
                    "box": [],
                    "first_seen_at": opened,
                    "opened_at": opened,
                    "last_seen_at": opened,
                    "closed_at": opened + timedelta(hours=rng.uniform(1, 200)) if status != "open" else None,
                    "responsible_agency_id": compound.property_company,
                    "rectify_due_at": opened + timedelta(hours=24),
                    "supervised": rng.random() < 0.01,
                }
            )
            if rng.random() < 0.1:
                due = opened + timedelta(hours=24)
                escalations.append(
                    {"hazard_id": i + 1, "stage": "rectify", "level": 1, "due_at": due, "escalated_at": due}
                )
            if len(hazards) == 5000:
                conn.execute(insert(m.HazardEvent), hazards)
                hazards = []
        if hazards:
            conn.execute(insert(m.HazardEvent), hazards)
        for first in range(0, len(escalations), 5000):
            conn.execute(insert(HazardEscalation), escalations[first : first + 5000])


def timed(what: str, action: Callable[[], T]) -> T:
    started = time.perf_counter()
    result = action()
    print(f"  {what:<52} {time.perf_counter() - started:8.2f} s")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    count = 2_000 if args.smoke else args.hazards
    tmp = Path(tempfile.mkdtemp(prefix="clearway-report-bench-"))
    db = Database(args.database_url or f"sqlite:///{tmp / 'bench.db'}")
    upgrade(db.engine)
    site = county_site()
    with db.session() as session:
        sync_site(session, site)
    started = time.perf_counter()
    fill(db, site, count, until_week=10)
    backend = db.engine.url.get_backend_name()
    if backend == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE hazard_events"))
    print(f"{count} hazards inserted in {time.perf_counter() - started:.1f} s ({backend})")
    campaign, zone = site.campaign, site.zone
    week = weeks(campaign, zone)[9]
    unit = find_unit(site, "county")
    t = translator("zh")
    print(f"county report for {week.label}:")
    with db.session() as session:
        facts = timed(
            "read the facts (one query)", lambda: load_facts(session, ReportViewer("county", None), week.ends_at)
        )
        names = ({c.id: c.name for c in site.compounds}, {a.id: a.name for a in site.agencies})
        figures = timed(
            "compute every figure (10 weeks of trend)",
            lambda: compute(facts, week, weeks(campaign, zone), ("county", site.name), campaign.name, *names),
        )
        pdf = timed("PDF (charts, tables, the font embedded)", lambda: report_pdf(figures, t, zone))
        xlsx = timed("XLSX", lambda: report_xlsx(figures, t, zone))
        together = "facts and figures together, as the schedule reads them"
        timed(together, lambda: figures_for(session, site, campaign, week, unit))
    print(
        f"  {len(facts)} hazards counted, found this week {figures.found}, PDF {len(pdf) // 1024} KiB, "
        f"XLSX {len(xlsx) // 1024} KiB"
    )
    scheduler = ReportScheduler(db, lambda: site, Outbox(lambda: site, DeliverySettings()), "http://localhost:8000")
    made = timed(
        "a Friday round: every unit's report, stored and queued",
        lambda: scheduler.make_period(site, week, week.ends_at),
    )
    print(f"  ({len(made)} reports for {week.label})")
    db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
