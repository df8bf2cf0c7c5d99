"""Arming schedules: validated with exact paths, armed/disarmed at the edges of each window, across midnight,
on holidays, on the site's wall clock (DST included), zone over camera, and the around-the-clock warning."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from service.cli import main
from service.config.arming import ArmingSchedule, armed_at
from service.config.settings import DEMO_SITE, get_settings
from service.config.site import SiteConfigError, load_site, parse_site
from service.config.site_warnings import site_warnings
from service.store.site_overrides import site_with

DEMO = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
SHANGHAI, BERLIN = ZoneInfo("Asia/Shanghai"), ZoneInfo("Europe/Berlin")
MARKET = {"disarmed": [{"days": ["mon", "tue", "wed", "thu", "fri"], "from": "06:00", "to": "10:00"}]}
NIGHT = {"disarmed": [{"days": ["fri"], "from": "22:00", "to": "06:00"}]}


def schedule(data: dict) -> ArmingSchedule:
    return ArmingSchedule.model_validate(data)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text)


def site_data(**changes: object) -> dict:
    data = copy.deepcopy(DEMO)
    data.update(changes)
    return data


def problems(data: dict) -> list[str]:
    with pytest.raises(SiteConfigError) as caught:
        parse_site(data)
    return [str(p) for p in caught.value.problems]


# --- the pure function ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "armed"),
    [
        ("2026-05-04 05:59:59", True),  # Monday, just before the market
        ("2026-05-04 06:00:00", False),  # from: inside
        ("2026-05-04 09:59:59", False),
        ("2026-05-04 10:00:00", True),  # to: outside
        ("2026-05-08 07:00:00", False),  # Friday
        ("2026-05-09 07:00:00", True),  # Saturday: not a market day
        ("2026-05-10 07:00:00", True),  # Sunday
    ],
)
def test_a_weekday_window_is_disarmed_from_its_start_up_to_its_end(when: str, armed: bool) -> None:
    assert schedule(MARKET).armed(local(when)) is armed


@pytest.mark.parametrize(
    ("when", "armed"),
    [
        ("2026-05-08 21:59", True),  # Friday evening
        ("2026-05-08 22:00", False),
        ("2026-05-08 23:59", False),
        ("2026-05-09 00:00", False),  # Saturday morning: Friday's window runs on past midnight
        ("2026-05-09 05:59", False),
        ("2026-05-09 06:00", True),
        ("2026-05-09 22:30", True),  # Saturday night: the window starts on Fridays only
        ("2026-05-08 03:00", True),  # Friday early morning: Thursday night is not disarmed
    ],
)
def test_a_window_crossing_midnight_belongs_to_the_day_it_starts(when: str, armed: bool) -> None:
    assert schedule(NIGHT).armed(local(when)) is armed


def test_to_2400_is_the_end_of_the_day_and_no_schedule_is_always_armed() -> None:
    sunday = schedule({"disarmed": [{"days": ["sun"], "from": "00:00", "to": "24:00"}]})
    assert sunday.armed(local("2026-05-10 00:00")) is False
    assert sunday.armed(local("2026-05-10 23:59:59")) is False
    assert sunday.armed(local("2026-05-11 00:00")) is True
    assert sunday.armed(local("2026-05-09 23:59")) is True
    assert armed_at(None, datetime(2026, 5, 4, 1, tzinfo=UTC), SHANGHAI) is True
    assert schedule({}).armed(local("2026-05-04 07:00")) is True


def test_holidays_count_as_sunday_unless_the_schedule_says_otherwise() -> None:
    labour_day = date(2026, 5, 1)  # a Friday
    sunday_market = {"disarmed": [{"days": ["sun"], "from": "06:00", "to": "10:00"}, *MARKET["disarmed"]]}
    at_seven = local("2026-05-01 07:00")
    assert schedule(MARKET).armed(at_seven) is False  # an ordinary Friday: market
    assert schedule(MARKET).armed(at_seven, {labour_day}) is True  # a holiday is a Sunday: no weekday market
    assert schedule(sunday_market).armed(at_seven, {labour_day}) is False  # ...but the Sunday market
    assert schedule({**MARKET, "holidays": "as_weekday"}).armed(at_seven, {labour_day}) is False
    assert schedule({**MARKET, "holidays": "armed"}).armed(at_seven, {labour_day}) is True
    disarmed = schedule({**MARKET, "holidays": "disarmed"})
    assert disarmed.armed(local("2026-05-01 15:00"), {labour_day}) is False  # the whole local date
    assert disarmed.armed(local("2026-05-02 00:00"), {labour_day}) is True  # and only that date
    night_armed = schedule({**NIGHT, "holidays": "armed"})
    assert night_armed.armed(local("2026-05-09 03:00"), {date(2026, 5, 8)}) is True  # no window starts on it
    assert night_armed.armed(local("2026-05-09 03:00"), {date(2026, 5, 9)}) is True  # armed all that date


def test_the_site_wall_clock_decides_not_utc() -> None:
    market = schedule(MARKET)
    # 23:30 UTC on Sunday is 07:30 Monday in Shanghai (no DST, +08:00 all year): the market
    assert armed_at(market, datetime(2026, 5, 3, 23, 30, tzinfo=UTC), SHANGHAI) is False
    assert armed_at(market, datetime(2026, 5, 3, 23, 30, tzinfo=UTC), BERLIN) is True  # 01:30 Monday there
    # Berlin keeps 06:00 local across DST: 05:00 UTC is 06:00 in winter (+01:00) but 07:00 in summer (+02:00)
    assert armed_at(market, datetime(2026, 1, 12, 4, 59, tzinfo=UTC), BERLIN) is True  # 05:59 CET
    assert armed_at(market, datetime(2026, 1, 12, 5, 0, tzinfo=UTC), BERLIN) is False  # 06:00 CET
    assert armed_at(market, datetime(2026, 7, 13, 3, 59, tzinfo=UTC), BERLIN) is True  # 05:59 CEST
    assert armed_at(market, datetime(2026, 7, 13, 4, 0, tzinfo=UTC), BERLIN) is False  # 06:00 CEST
    assert armed_at(market, datetime(2026, 7, 13, 8, 0, tzinfo=UTC), BERLIN) is True  # 10:00 CEST
    # the Monday after the spring change (2026-03-29): 06:00 CEST is 04:00 UTC, the week before it was 05:00
    assert armed_at(market, datetime(2026, 3, 30, 4, 0, tzinfo=UTC), BERLIN) is False
    assert armed_at(market, datetime(2026, 3, 23, 4, 0, tzinfo=UTC), BERLIN) is True
    naive = datetime(2026, 5, 3, 23, 30)  # taken as UTC
    assert armed_at(market, naive, SHANGHAI) is False


def test_a_camera_answers_for_its_zones_on_the_site_clock_and_holidays() -> None:
    data = site_data(timezone="Europe/Berlin", holidays=["2026-05-01"])
    camera = data["cameras"][0]
    camera["arming"] = MARKET
    camera["zones"][1]["arming"] = {}  # kerb-road: its own, empty schedule -> always armed
    site = parse_site(data)
    gate = site.camera("lanting-gate")
    monday_7 = datetime(2026, 5, 4, 5, 0, tzinfo=UTC)  # 07:00 CEST
    assert gate.zone_armed("fire-lane-north", monday_7) is False  # inherits the camera's
    assert gate.zone_armed("kerb-road", monday_7) is True  # its own replaces the camera's
    assert gate.zone_armed("no-such-zone", monday_7) is True  # unknown: armed, never a hazard silently dropped
    assert gate.zone_armed("fire-lane-north", datetime(2026, 5, 1, 5, 0, tzinfo=UTC)) is True  # holiday
    assert site.camera("lanting-b3-stair").zone_armed("stair-b3", monday_7) is True  # no schedule
    again = site_with(site, "lanting-gate", [z.model_dump(mode="json") for z in gate.zones], [])
    assert again.camera("lanting-gate").zone_armed("fire-lane-north", monday_7) is False  # survives a re-parse


# --- validation ---------------------------------------------------------------------------------------------------


def test_mistakes_are_named_with_their_paths() -> None:
    data = site_data(holidays=["2026-10-01", "2026-10-01"])
    data["cameras"][0]["arming"] = {"disarmed": [{"from": 360, "to": "10:00"}], "holidays": "maybe"}
    data["cameras"][0]["zones"][0]["arming"] = {
        "disarmed": [
            {"days": ["mon", "tues"], "from": "25:00", "to": "10:00"},
            {"from": "06:00", "to": "06:00"},
            {"from": "06:00", "until": "07:00"},
            {"days": [], "from": "01:00", "to": "02:00"},
            {"from": "24:00", "to": "02:00"},
        ]
    }
    where = "cameras[0].zones[0].arming.disarmed"
    label = "(camera lanting-gate, zone fire-lane-north)"
    found = problems(data)
    expected = [
        f"{where}[0].days[1] {label}: 'tues' is not a day (mon, tue, wed, thu, fri, sat, sun)",
        f"{where}[0].from {label}: '25:00' is not a time of day HH:MM (00:00 to 24:00)",
        f"{where}[1] {label}: from and to are both 06:00: an empty window",
        f"{where}[2].until {label}: Extra inputs are not permitted",
        f"{where}[2].to {label}: Field required",
        f"{where}[3] {label}: days is empty: the window never applies",
        f"{where}[4] {label}: from cannot be 24:00",
        "cameras[0].arming.disarmed[0].from (camera lanting-gate): got the number 360: write the time in quotes, "
        'e.g. "06:00"',
        "cameras[0].arming.holidays (camera lanting-gate): Input should be 'as_sunday', 'as_weekday', 'armed'",
        "holidays: listed more than once: 2026-10-01",
    ]
    assert len(found) == len(expected), found
    for line, start in zip(found, expected, strict=True):
        assert line.startswith(start), (line, start)


def test_unquoted_yaml_times_are_refused_with_the_quoted_spelling(tmp_path: Path) -> None:
    data = site_data()
    data["cameras"][0]["zones"][0]["arming"] = {"disarmed": [{"from": "22:00", "to": "06:00"}]}
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False).replace("'22:00'", "22:00")
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SiteConfigError) as caught:
        load_site(path)
    [problem] = caught.value.problems
    assert problem.path == "cameras[0].zones[0].arming.disarmed[0].from"
    assert 'write the time in quotes, e.g. "22:00"' in problem.message


def test_holiday_dates_and_short_times_load_from_yaml(tmp_path: Path) -> None:
    text = DEMO_SITE.read_text(encoding="utf-8") + '\nholidays: [2026-10-01, "2026-10-02"]\n'
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    site = load_site(path)
    assert site.holidays == (date(2026, 10, 1), date(2026, 10, 2))
    assert schedule({"disarmed": [{"days": ["MON"], "from": "6:00", "to": "9:30"}]}).disarmed[0].start == "06:00"


# --- warnings and site check --------------------------------------------------------------------------------------


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CLEARWAY_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_a_schedule_disarmed_around_the_clock_is_a_warning(tmp_path: Path, capsys, isolated) -> None:
    data = site_data()
    data["cameras"][0]["zones"][1]["arming"] = {
        "disarmed": [{"from": "08:00", "to": "20:00"}, {"from": "20:00", "to": "08:00"}]
    }
    data["cameras"][1]["arming"] = {"disarmed": [{"from": "00:00", "to": "24:00"}]}
    data["cameras"][1]["zones"][0]["arming"] = {"disarmed": [{"from": "00:00", "to": "23:59"}]}  # a minute armed
    messages = [str(w) for w in site_warnings(parse_site(data)) if "around the clock" in str(w)]
    assert messages == [
        "cameras[0].zones[1].arming (camera lanting-gate, zone kerb-road): disarmed around the clock: hazards "
        "never open here (narrow or remove a disarmed window)",
        "cameras[1].arming (camera lanting-b3-stair): disarmed around the clock: hazards never open here "
        "(narrow or remove a disarmed window)",
    ]
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert main(["site", "check", str(path)]) == 0
    err = capsys.readouterr().err
    assert err.count("around the clock") == 2


def test_a_sensible_schedule_adds_nothing_to_site_check(tmp_path: Path, capsys, isolated) -> None:
    clean = tmp_path / "clean.yaml"
    clean.write_text(DEMO_SITE.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["site", "check", str(clean)]) == 0
    before = capsys.readouterr()
    data = site_data(holidays=["2026-10-01"])
    data["cameras"][0]["arming"] = MARKET
    data["cameras"][0]["zones"][0]["arming"] = NIGHT
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert main(["site", "check", str(path)]) == 0
    after = capsys.readouterr()
    assert after.err == before.err.replace(str(clean), str(path))


def test_the_documented_example_works() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "site-file.md").read_text(encoding="utf-8")
    section = text[text.index("## Arming schedules") :]
    example = yaml.safe_load(section[section.index("```yaml") + 7 : section.index("```", section.index("```yaml") + 7)])
    data = site_data(timezone=example["timezone"], holidays=example["holidays"])
    gate_index = next(i for i, c in enumerate(data["cameras"]) if c["id"] == "lanting-gate")
    data["cameras"][gate_index] = {**data["cameras"][gate_index], **example["cameras"][0]}
    site = parse_site(data)
    assert site_warnings(site) == site_warnings(parse_site(DEMO))  # no warning of its own
    gate = site.camera("lanting-gate")
    assert gate.zone_armed("fire-lane-north", datetime(2026, 5, 8, 15, 0, tzinfo=UTC)) is False  # Fri 23:00
    assert gate.zone_armed("fire-lane-north", datetime(2026, 5, 4, 0, 0, tzinfo=UTC)) is True  # Mon 08:00: own
    assert gate.zone_armed("kerb-road", datetime(2026, 5, 10, 4, 0, tzinfo=UTC)) is True  # {}: always armed
    assert gate.zone_armed("kerb-road", datetime(2026, 10, 1, 4, 0, tzinfo=UTC)) is True
    monday_7, national_day_noon = datetime(2026, 5, 3, 23, 0, tzinfo=UTC), datetime(2026, 10, 1, 4, 0, tzinfo=UTC)
    assert armed_at(gate.arming, monday_7, SHANGHAI) is False  # the camera's: the morning market
    assert armed_at(gate.arming, national_day_noon, SHANGHAI, site.holidays) is False  # a holiday is a Sunday
    assert armed_at(gate.arming, national_day_noon, SHANGHAI) is True  # an ordinary Thursday noon
