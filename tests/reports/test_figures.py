"""Every figure of the weekly report, computed from a known set of hazards seeded across two campaign weeks
(on SQLite and PostgreSQL), for the county and for one unit; and the stored report's files open."""

from __future__ import annotations

import io
import subprocess

from openpyxl import load_workbook

from service.config.settings import DEMO_SITE
from service.config.site import load_site
from service.reports.making import figures_for, find_unit, make_report
from service.reports.periods import find_week
from tests.delivery.conftest import MakeEnv
from tests.reports.support import TWO_WEEKS, seed

SITE = load_site(DEMO_SITE)
CAMPAIGN = SITE.campaign


def figures(env, unit: str, week: str):
    with env.db.session() as session:
        return figures_for(session, SITE, CAMPAIGN, find_week(CAMPAIGN, SITE.zone, week), find_unit(SITE, unit))


def test_every_figure_of_two_weeks_for_the_county(make_env: MakeEnv) -> None:
    env = make_env(SITE)
    exit_ = seed(env, env.site, TWO_WEEKS)[2]  # the blocked exit
    first = figures(env, "county", "2026-W45")
    # Week 45: the car (rectified on time, 10 h), the stairwell (late, fixed next week), the exit (open, overdue,
    # escalated, supervised); the dismissed false alarm counts nowhere.
    assert (first.found, first.rectified, first.rectified_on_time, first.open, first.overdue) == (3, 1, 1, 2, 2)
    assert first.escalated == 1 and first.median_hours_to_rectify == 10.0
    assert (first.found_to_date, first.rectified_to_date, first.rate) == (3, 1, 0.3333)
    assert first.found_by_kind == {"blocked_exit": 1, "stairwell_storage": 1, "vehicle_in_fire_lane": 1}
    assert first.found_by_source == {"camera": 1, "inspection": 1, "resident": 1}
    assert first.supervised_open == 1 and [s.number for s in first.supervised] == [exit_]
    assert [(c.id, c.found, c.rectified, c.open, c.overdue, c.rate) for c in first.compounds] == [
        ("lanting", 2, 1, 1, 1, 0.5),
        ("huayuan", 1, 0, 1, 1, 0.0),
    ]
    assert [(u.id, u.found, u.rectified, u.open, u.overdue) for u in first.units] == [
        ("pm-lanting", 2, 1, 1, 1),
        ("pm-huayuan", 1, 0, 1, 1),
    ]
    assert {u.id for u in first.overdue_units} == {"pm-lanting", "pm-huayuan"}  # to be named (通报)
    second = figures(env, "county", "2026-W46")
    # Week 46: the stairwell fixed late (144 h), a second car cleared by the camera (4 h), an e-bike still open.
    assert (second.found, second.rectified, second.rectified_on_time, second.open, second.overdue) == (2, 2, 1, 2, 1)
    assert second.escalated == 0 and second.median_hours_to_rectify == 74.0
    assert (second.found_to_date, second.rectified_to_date, second.rate) == (5, 3, 0.6)
    assert second.found_by_source == {"camera": 1, "self_inspection": 1}
    assert [(p.label, p.found, p.rectified, p.open, p.overdue, p.rate) for p in second.trend] == [
        ("2026-W45", 3, 1, 2, 2, 0.3333),
        ("2026-W46", 2, 2, 2, 1, 0.6),
    ]
    assert [(u.id, u.overdue) for u in second.overdue_units] == [("pm-lanting", 1)]
    assert second.phases == []


def test_a_unit_report_counts_its_own_compounds_only(make_env: MakeEnv) -> None:
    env = make_env(SITE)
    seed(env, env.site, TWO_WEEKS)
    lanting = figures(env, "pm-lanting", "2026-W46")
    assert (lanting.unit_id, lanting.unit_name) == ("pm-lanting", SITE.agency("pm-lanting").name)
    assert (lanting.found, lanting.rectified, lanting.open, lanting.overdue) == (1, 0, 2, 1)
    assert (lanting.found_to_date, lanting.rectified_to_date) == (3, 1)
    assert [c.id for c in lanting.compounds] == ["lanting"]
    township = figures(env, "ts-chengguan", "2026-W46")  # both compounds are in its township
    assert township.found_to_date == 5


def test_the_stored_report_keeps_its_figures_and_its_files_open(make_env: MakeEnv) -> None:
    env = make_env(SITE)
    seed(env, env.site, TWO_WEEKS)
    period = find_week(CAMPAIGN, SITE.zone, "2026-W46")
    with env.db.session() as session:
        report = make_report(session, SITE, CAMPAIGN, period, find_unit(SITE, "county"), "test", None)
        stored = dict(report.figures), report.pdf, report.xlsx
    assert stored[0] == figures(env, "county", "2026-W46").model_dump(mode="json")
    assert stored[1].startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-", "-"], input=stored[1], capture_output=True, check=True).stdout.decode()
    assert "2026-W46" in text and SITE.name in text
    book = load_workbook(io.BytesIO(stored[2]))
    assert len(book.sheetnames) >= 4
