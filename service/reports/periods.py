"""The campaign's report periods: one per week, ending at the Friday cut-off, and the whole campaign at the end.

Why a module: the weeks must tile the campaign with no gap and no overlap, so every hazard is counted in
exactly one weekly report, and the schedule, the CLI and the pages must agree on them. A week runs from the
previous cut-off (or the campaign's first day, 00:00 local) to this week's cut-off, which is the deadline
(default Friday 18:00 local) less `prepare_before`; the last week ends with the campaign's last day. A week is
named by the ISO week of its deadline, e.g. 2026-W49.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from service.config.campaign import Campaign

WEEK_LABEL = re.compile(r"^\d{4}-W\d{2}$")
FINAL = "final"


@dataclass(frozen=True)
class Period:
    kind: str  # weekly | final
    label: str  # 2026-W49 | final
    starts_at: datetime  # UTC, inclusive
    ends_at: datetime  # UTC, exclusive; the schedule makes and sends the report then
    due_at: datetime  # when the county must have it (the Friday deadline; the end of the summary's day)


def _local(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _label(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def local_days(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Whole local days as [first 00:00, the day after the last 00:00), in UTC."""
    return _local(first, time(0), zone), _local(last + timedelta(days=1), time(0), zone)


def campaign_bounds(campaign: Campaign, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return local_days(campaign.starts, campaign.ends, zone)


def phases(campaign: Campaign, zone: ZoneInfo) -> list[tuple[str, datetime, datetime]]:
    """(name, start, end) of each phase of the plan, for the final summary."""
    return [(p.name or p.id.value, *local_days(p.starts, p.ends, zone)) for p in campaign.phases]


def weeks(campaign: Campaign, zone: ZoneInfo) -> list[Period]:
    """Every weekly period of the campaign, in order."""
    start, end = campaign_bounds(campaign, zone)
    day = campaign.starts + timedelta(days=(campaign.deadline_weekday - campaign.starts.weekday()) % 7)
    out: list[Period] = []
    while True:
        due = _local(day, campaign.weekly_deadline_time, zone)
        cut = due - campaign.prepare_before
        if cut > start:
            ends = min(cut, end)  # the last week ends with the campaign, and is made then
            out.append(Period("weekly", _label(day), start, ends, due))
            start = ends
        if start >= end:
            return out
        day += timedelta(days=7)


def final(campaign: Campaign, zone: ZoneInfo) -> Period:
    """The campaign summary: everything from the first day to the last, made when the campaign has ended."""
    start, end = campaign_bounds(campaign, zone)
    return Period(FINAL, FINAL, start, end, local_days(campaign.summary_due, campaign.summary_due, zone)[1])


def find_week(campaign: Campaign, zone: ZoneInfo, label: str) -> Period:
    """The week named `label` (YYYY-Www); ValueError saying which weeks exist otherwise."""
    if not WEEK_LABEL.match(label):
        raise ValueError(f"week {label!r} is not of the form YYYY-Www, e.g. 2026-W49")
    all_weeks = weeks(campaign, zone)
    for period in all_weeks:
        if period.label == label:
            return period
    raise ValueError(f"week {label} is not in the campaign ({all_weeks[0].label} to {all_weeks[-1].label})")


def week_at(campaign: Campaign, zone: ZoneInfo, now: datetime) -> Period | None:
    """The week `now` falls in, or the last one before it; None before the campaign starts."""
    passed = [p for p in weeks(campaign, zone) if p.starts_at <= now]
    return passed[-1] if passed else None


def due(campaign: Campaign, zone: ZoneInfo, now: datetime) -> list[Period]:
    """The periods whose report should have been made by `now` (the schedule makes any that are missing)."""
    periods = [*weeks(campaign, zone), final(campaign, zone)]
    return [p for p in periods if p.ends_at <= now]
