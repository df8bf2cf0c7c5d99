"""Arming schedules: when a zone watches and when it does not (a lane that is a market every morning).

One model, on purpose: a zone is **armed** except in its weekly `disarmed` windows, read on the site's wall
clock (`timezone`), so 06:00 means 06:00 in the compound whatever the season or the server's zone. A window
belongs to the day it starts on and may cross midnight (`fri 22:00-06:00` is Friday night to Saturday
morning); `from` is inside it, `to` is not; `to: "24:00"` is the end of the day. The site's `holidays`
(dates) count as Sundays by default, or are armed or disarmed for the whole local date, or count as the
weekday they are (`holidays:` of the schedule). A zone's own `arming` replaces its camera's (it is not
merged; `arming: {}` on a zone keeps it armed under a camera schedule); neither: always armed.

Pure: `ArmingSchedule.armed(local_time, holidays)` and `armed_at(...)` have no clock of their own; the
dwell engine asks `camera.zone_armed(zone_id, captured_at)` (service/config/site.py).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

DAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
HolidayRule = Literal["as_sunday", "as_weekday", "armed", "disarmed"]
DAY_MINUTES = 24 * 60
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})$")


def _clock(value: object) -> object:
    """'6:00' / '06:00' -> '06:00'; an unquoted YAML 06:00 (which PyYAML reads as the number 360) is refused."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        hint = f'"{value // 60:02d}:{value % 60:02d}"' if 0 <= value <= DAY_MINUTES else '"06:00"'
        raise ValueError(f"got the number {value}: write the time in quotes, e.g. {hint} (YAML reads 06:00 as 360)")
    if not isinstance(value, str):
        return value
    found = _CLOCK.match(value.strip())
    if not found or int(found[2]) > 59 or int(found[1]) > 24 or (int(found[1]) == 24 and found[2] != "00"):
        raise ValueError(f"{value!r} is not a time of day HH:MM (00:00 to 24:00)")
    return f"{int(found[1]):02d}:{found[2]}"


def _day(value: object) -> object:
    if not isinstance(value, str):
        return value
    day = value.strip().lower()
    if day not in DAYS:
        raise ValueError(f"{value!r} is not a day ({', '.join(DAYS)})")
    return day


ClockTime = Annotated[str, BeforeValidator(_clock)]
DayName = Annotated[Day, BeforeValidator(_day)]


def minutes(clock: str) -> int:
    """'06:30' -> 390."""
    hours, mins = clock.split(":")
    return int(hours) * 60 + int(mins)


class Window(BaseModel):
    """One weekly stretch when the zone is disarmed: `{days: [mon, fri], from: "06:00", to: "10:00"}`."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True)

    days: tuple[DayName, ...] = Field(default=DAYS, description="the days it starts on; default every day")
    start: ClockTime = Field(alias="from", description="site time, inside the window")
    end: ClockTime = Field(alias="to", description="site time, outside it; earlier than from: the next day")

    @model_validator(mode="after")
    def _sensible(self) -> Window:
        if not self.days:
            raise ValueError("days is empty: the window never applies (leave days out for every day)")
        repeated = sorted({d for d in self.days if self.days.count(d) > 1}, key=DAYS.index)
        if repeated:
            raise ValueError(f"days lists {', '.join(repeated)} more than once")
        if self.start == "24:00":
            raise ValueError("from cannot be 24:00: a window starts at 00:00 of the next day instead")
        if self.start == self.end:
            raise ValueError(
                f"from and to are both {self.start}: an empty window (for a whole day write from 00:00 to 24:00)"
            )
        return self

    @property
    def crosses_midnight(self) -> bool:
        return minutes(self.end) < minutes(self.start)

    def covers(self, today: str | None, yesterday: str | None, minute: int) -> bool:
        """Is `minute` of a day (0..1439) inside, given which weekday's windows today and yesterday start?"""
        start, end = minutes(self.start), minutes(self.end)
        if today in self.days and start <= minute < (DAY_MINUTES if self.crosses_midnight else end):
            return True
        return self.crosses_midnight and yesterday in self.days and minute < end


class ArmingSchedule(BaseModel):
    """A zone's or camera's `arming` section: armed except in the `disarmed` windows."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    disarmed: tuple[Window, ...] = Field(default=(), description="weekly windows, site time; none: always armed")
    holidays: HolidayRule = Field(
        default="as_sunday",
        description="the site's holidays: as_sunday (Sunday's windows), as_weekday (ignored), armed or disarmed "
        "(the whole local date)",
    )

    def _day_key(self, day: date, holidays: Collection[date]) -> str | None:
        """Whose windows start on `day`: its weekday, 'sun' for a holiday kept as Sunday, None for a holiday
        armed or disarmed all day (no window starts on it, so none runs on past its midnight either)."""
        if day in holidays:
            if self.holidays == "as_sunday":
                return "sun"
            if self.holidays in ("armed", "disarmed"):
                return None
        return DAYS[day.weekday()]

    def armed(self, local: datetime, holidays: Collection[date] = ()) -> bool:
        """Armed at this wall-clock time of the site (naive or already in the site's zone)?"""
        today = local.date()
        if today in holidays and self.holidays in ("armed", "disarmed"):
            return self.holidays == "armed"
        key, before = self._day_key(today, holidays), self._day_key(today - timedelta(days=1), holidays)
        minute = local.hour * 60 + local.minute
        return not any(w.covers(key, before, minute) for w in self.disarmed)

    def always_disarmed(self) -> bool:
        """Disarmed at every minute of an ordinary week (holidays aside): such a zone never opens a hazard."""
        if not self.disarmed:
            return False
        for index, today in enumerate(DAYS):
            before = DAYS[index - 1]
            for minute in range(DAY_MINUTES):
                if not any(w.covers(today, before, minute) for w in self.disarmed):
                    return False
        return True


@dataclass(frozen=True)
class SiteCalendar:
    """What a schedule needs from the site: its time zone and its holidays (set on each camera by `Site`)."""

    timezone: str = "Asia/Shanghai"
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def armed_at(schedule: ArmingSchedule | None, at: datetime, zone: tzinfo, holidays: Collection[date] = ()) -> bool:
    """Is a zone with this schedule armed at the instant `at` (aware; naive is taken as UTC), on `zone`'s clock?"""
    if schedule is None:
        return True
    moment = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
    return schedule.armed(moment.astimezone(zone), holidays)
