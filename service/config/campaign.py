"""The campaign section of the site file: its dates and phases, the Friday deadline, who receives which report.

Why here: the campaign plan sets the rhythm the reports follow (every unit reports to the county office each
Friday before 18:00; a final summary after the end). The dates are local dates of the site's time zone; the
report schedule (service/reports/schedule.py) turns them into instants.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.delivery.config import Duration

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class PhaseId(StrEnum):
    """The four phases of the campaign plan (动员部署, 自查摸底, 整改落实, 总结)."""

    mobilisation = "mobilisation"
    self_inspection = "self_inspection"
    rectification = "rectification"
    summary = "summary"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Phase(_Strict):
    id: PhaseId
    name: str = ""
    starts: date
    ends: date = Field(description="the last day of the phase (inclusive)")

    @model_validator(mode="after")
    def _order(self) -> Phase:
        if self.ends < self.starts:
            raise ValueError(f"phase {self.id.value}: ends {self.ends} is before starts {self.starts}")
        return self


class Recipients(_Strict):
    """Who receives which report, through the channels their agency lists."""

    county: tuple[Identifier, ...] | None = Field(
        default=None, description="agencies that receive the county report; default: every county_office"
    )
    units: bool = Field(default=True, description="each unit receives its own weekly report and final summary")


class Campaign(_Strict):
    name: str = Field(min_length=1)
    starts: date
    ends: date = Field(description="the last day of the campaign (inclusive)")
    phases: tuple[Phase, ...] = ()
    weekly_deadline_day: Literal[WEEKDAYS] = "friday"  # type: ignore[valid-type]
    weekly_deadline_time: time = time(18, 0)
    prepare_before: Duration = Field(
        default=timedelta(hours=1), description="a week's report is made this long before the deadline"
    )
    final_summary_by: date | None = Field(default=None, description="default: two days after the end")
    language: Literal["zh", "en"] = Field(default="zh", description="the language of the PDF, XLSX and messages")
    recipients: Recipients = Field(default_factory=Recipients)

    @model_validator(mode="after")
    def _dates(self) -> Campaign:
        if self.ends < self.starts:
            raise ValueError(f"ends {self.ends} is before starts {self.starts}")
        if self.final_summary_by is not None and self.final_summary_by <= self.ends:
            raise ValueError(f"final_summary_by {self.final_summary_by} must be after the end {self.ends}")
        if self.prepare_before >= timedelta(days=7):
            raise ValueError("prepare_before must be shorter than a week")
        previous: Phase | None = None
        for phase in self.phases:
            if phase.starts < self.starts or phase.ends > self.ends:
                raise ValueError(f"phase {phase.id.value} ({phase.starts}..{phase.ends}) is outside the campaign")
            if previous is not None and phase.starts <= previous.ends:
                raise ValueError(f"phase {phase.id.value} starts before phase {previous.id.value} ends")
            previous = phase
        return self

    @property
    def summary_due(self) -> date:
        return self.final_summary_by or self.ends + timedelta(days=2)

    @property
    def deadline_weekday(self) -> int:
        return WEEKDAYS.index(self.weekly_deadline_day)
