"""Hand-made hazard facts over two weekly periods, and the figures computed from them, for the tests of the
rendered report (test_report_render.py): a county with three compounds and three named units, overdue hazards,
one supervised major hazard, and hazards with no responsible unit named."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from service.reports.facts import HazardFact
from service.reports.figures import Figures, compute
from service.reports.periods import Period

ZONE = ZoneInfo("Asia/Shanghai")
CAMPAIGN = "消防通道专项整治"
COMPOUNDS = {"c1": "阳光花园", "c2": "幸福里小区", "c3": "锦绣江南名苑二期东区（含商业街及地下车库）"}
AGENCIES = {"ps1": "城关派出所", "prop1": "阳光物业服务有限公司", "prop2": "幸福里物业"}
KINDS = ("vehicle_in_fire_lane", "blocked_exit", "ebike_indoor", "stairwell_storage")
SOURCES = ("camera", "resident", "inspection")


def _utc(day: str, hour: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


def _week(label: str, start: datetime, end: datetime) -> Period:
    return Period(kind="weekly", label=label, starts_at=start, ends_at=end, due_at=end + timedelta(hours=1))


WEEK1 = _week("2026-W48", _utc("2026-11-20", 16), _utc("2026-11-27", 9))
WEEK2 = _week("2026-W49", _utc("2026-11-27", 9), _utc("2026-12-04", 9))
FINAL = Period(kind="final", label="final", starts_at=WEEK1.starts_at, ends_at=WEEK2.ends_at, due_at=WEEK2.ends_at)


def _fact(number: int, opened: datetime, rectified: datetime | None, due_hours: int, **extra: object) -> HazardFact:
    values: dict[str, object] = {
        "id": number,
        "compound_id": ("c1", "c2", "c3")[number % 3],
        "kind": KINDS[number % len(KINDS)],
        "source": SOURCES[number % len(SOURCES)],
        "status": "rectified" if rectified else "notified",
        "severity": "minor",
        "supervised": False,
        "responsible": ("ps1", "prop1", "prop2", "")[number % 4],
        "opened_at": opened,
        "rectified_at": rectified,
        "rectify_due_at": opened + timedelta(hours=due_hours),
        "escalated_at": None,
    }
    values.update(extra)
    return HazardFact(**values)  # type: ignore[arg-type]


def hand_made_facts() -> list[HazardFact]:
    """Week 1: 6 found, 4 rectified; week 2: 8 found, 5 rectified, some overdue, one supervised and escalated."""
    facts = []
    for n in range(6):
        opened = WEEK1.starts_at + timedelta(hours=10 + 20 * n)
        facts.append(_fact(n, opened, opened + timedelta(hours=30 + n) if n < 4 else None, 48))
    for n in range(6, 14):
        opened = WEEK2.starts_at + timedelta(hours=5 + 15 * n - 90)
        done = opened + timedelta(hours=20 + 10 * (n % 3)) if n % 3 != 0 else None
        facts.append(_fact(n, opened, done, 24 if n % 2 else 72))
    supervised_at = WEEK2.starts_at + timedelta(hours=3)
    facts.append(
        _fact(
            20,
            supervised_at,
            None,
            24,
            supervised=True,
            severity="major",
            kind="blocked_exit",
            escalated_at=supervised_at + timedelta(hours=30),
        )
    )
    return facts


def make_figures(facts: list[HazardFact], period: Period = WEEK2, **extra: object) -> Figures:
    return compute(facts, period, [WEEK1, WEEK2], ("county", "全县"), CAMPAIGN, COMPOUNDS, AGENCIES, **extra)  # type: ignore[arg-type]


def final_figures(facts: list[HazardFact]) -> Figures:
    phases = [("self_inspection", WEEK1.starts_at, WEEK1.ends_at), ("rectification", WEEK2.starts_at, WEEK2.ends_at)]
    return make_figures(facts, FINAL, phases=phases)
