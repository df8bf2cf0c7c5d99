"""The campaign's weeks tile it with no gap and no overlap, end at the Friday cut-off in the site's zone, and are
found by their ISO week; the site file's campaign section is validated with clear messages."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import yaml

from service.config.campaign import Campaign
from service.config.settings import DEMO_SITE
from service.config.site import SiteConfigError, load_site, parse_site
from service.reports.periods import due, final, find_week, phases, week_at, weeks

SHANGHAI = ZoneInfo("Asia/Shanghai")


def campaign(**extra: object) -> Campaign:
    return Campaign.model_validate({"name": "整治", "starts": "2026-11-02", "ends": "2026-11-30"} | extra)


def test_weeks_tile_the_campaign_and_end_at_the_friday_cut_off_local() -> None:
    plan = campaign()
    all_weeks = weeks(plan, SHANGHAI)
    assert [w.label for w in all_weeks] == ["2026-W45", "2026-W46", "2026-W47", "2026-W48", "2026-W49"]
    assert all_weeks[0].starts_at == datetime(2026, 11, 2, tzinfo=SHANGHAI)  # the first day, 00:00 local
    for before, after in itertools.pairwise(all_weeks):
        assert before.ends_at == after.starts_at  # no gap, no overlap: every hazard is in exactly one week
    first = all_weeks[0]
    assert first.ends_at == datetime(2026, 11, 6, 17, 0, tzinfo=SHANGHAI)  # Friday 18:00 less an hour
    assert first.due_at == datetime(2026, 11, 6, 18, 0, tzinfo=SHANGHAI)
    assert all_weeks[-1].ends_at == datetime(2026, 12, 1, tzinfo=SHANGHAI)  # the last day included, then it stops
    assert all_weeks[-1].due_at == datetime(2026, 12, 4, 18, 0, tzinfo=SHANGHAI)


def test_another_deadline_and_zone_move_the_cut_off() -> None:
    plan = campaign(weekly_deadline_day="thursday", weekly_deadline_time="12:00", prepare_before="30m")
    first = weeks(plan, ZoneInfo("Europe/Berlin"))[0]
    assert first.ends_at == datetime(2026, 11, 5, 11, 30, tzinfo=ZoneInfo("Europe/Berlin"))
    assert first.ends_at.tzinfo is UTC or first.ends_at.utcoffset() == timedelta(0)


def test_a_campaign_starting_after_the_cut_off_begins_with_the_next_week() -> None:
    plan = campaign(starts="2026-11-07")  # a Saturday
    assert weeks(plan, SHANGHAI)[0].label == "2026-W46"


def test_find_week_due_and_week_at() -> None:
    plan = campaign()
    assert find_week(plan, SHANGHAI, "2026-W47").starts_at == datetime(2026, 11, 13, 17, 0, tzinfo=SHANGHAI)
    with pytest.raises(ValueError, match=r"not in the campaign \(2026-W45 to 2026-W49\)"):
        find_week(plan, SHANGHAI, "2027-W01")
    with pytest.raises(ValueError, match="YYYY-Www"):
        find_week(plan, SHANGHAI, "week 47")
    friday = datetime.combine(date(2026, 11, 13), time(17, 0), tzinfo=SHANGHAI)
    assert [p.label for p in due(plan, SHANGHAI, friday)] == ["2026-W45", "2026-W46"]
    assert [p.label for p in due(plan, SHANGHAI, friday - timedelta(seconds=1))] == ["2026-W45"]
    assert week_at(plan, SHANGHAI, friday).label == "2026-W47"
    assert week_at(plan, SHANGHAI, datetime(2026, 1, 1, tzinfo=UTC)) is None
    after = datetime(2026, 12, 1, tzinfo=SHANGHAI)
    assert [p.label for p in due(plan, SHANGHAI, after)][-1] == "final"


def test_the_final_summary_covers_the_campaign_and_is_due_by_its_day() -> None:
    plan = campaign(
        final_summary_by="2026-12-02",
        phases=[
            {"id": "mobilisation", "name": "动员部署", "starts": "2026-11-02", "ends": "2026-11-08"},
            {"id": "rectification", "starts": "2026-11-09", "ends": "2026-11-30"},
        ],
    )
    summary = final(plan, SHANGHAI)
    all_weeks = weeks(plan, SHANGHAI)
    assert (summary.starts_at, summary.ends_at) == (all_weeks[0].starts_at, all_weeks[-1].ends_at)
    assert summary.due_at == datetime(2026, 12, 3, tzinfo=SHANGHAI)  # by 2 December: until its end
    assert [(name, start.astimezone(SHANGHAI).day) for name, start, _ in phases(plan, SHANGHAI)] == [
        ("动员部署", 2),
        ("rectification", 9),
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"ends": "2026-10-01"}, "ends 2026-10-01 is before starts 2026-11-02"),
        ({"final_summary_by": "2026-11-30"}, "must be after the end"),
        ({"phases": [{"id": "summary", "starts": "2026-10-01", "ends": "2026-11-03"}]}, "outside the campaign"),
        ({"weekly_deadline_day": "fri"}, "weekly_deadline_day"),
        ({"prepare_before": "8d"}, "shorter than a week"),
        ({"recipients": {"county": ["nobody"]}}, "'nobody' is not a known agency"),
    ],
)
def test_a_bad_campaign_section_names_the_problem(extra: dict, message: str) -> None:
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    data["campaign"] = {"name": "整治", "starts": "2026-11-02", "ends": "2026-11-30"} | extra
    with pytest.raises(SiteConfigError, match=message):
        parse_site(data)


def test_the_demo_site_has_a_campaign_with_its_four_phases() -> None:
    site = load_site(DEMO_SITE)
    assert site.campaign is not None
    assert [p.id.value for p in site.campaign.phases] == ["mobilisation", "self_inspection", "rectification", "summary"]
    assert site.campaign.recipients.county == ("co-county",)
