"""How a report's figures read to people: local times, percents, the names of figures, units and phases.

Why one module: the summary sentences, the PDF, the spreadsheet and the charts must show a figure the same
way (a rate of 0.8125 is "81%" everywhere, a time is the site's local time everywhere), and each figure is
named once, in the catalogue (service/locale, keys report.*).
"""

from __future__ import annotations

import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

from service.locale import Translator
from service.reports.figures import Figures, Line

DEFAULT_ZONE = ZoneInfo("Asia/Shanghai")
TIME_FORMAT = "%Y-%m-%d %H:%M"

COUNTS = ("found", "rectified", "rectified_on_time", "open", "overdue", "escalated")
TO_DATE = ("found_to_date", "rectified_to_date")
KEY_FIGURES = (*COUNTS, *TO_DATE, "rate", "median_hours_to_rectify", "supervised_open")
"""The figures of the key-figures table and the summary sheet, in the order they are shown."""


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    """`moment` as the site's wall-clock time, naive (what a spreadsheet cell holds)."""
    return moment.astimezone(zone).replace(tzinfo=None)


def when(moment: datetime | None, zone: ZoneInfo) -> str:
    return local(moment, zone).strftime(TIME_FORMAT) if moment is not None else ""


def span(figures: Figures, zone: ZoneInfo) -> str:
    """The period as people read it, e.g. 2026-11-27 17:00 – 2026-12-04 17:00 (the end is the cut-off)."""
    return f"{when(figures.starts_at, zone)} – {when(figures.ends_at, zone)}"


def percent_value(rate: float | None) -> int | None:
    """A rate as a whole percent that never rounds a partial result up to 100 or a non-zero one down to 0."""
    if rate is None:
        return None
    value = round(rate * 100)
    if value == 100 and rate < 1:
        return 99
    if value == 0 and rate > 0:
        return 1
    return value


def percent(rate: float | None) -> str:
    value = percent_value(rate)
    return "—" if value is None else f"{value}%"


def hours(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def is_final(figures: Figures) -> bool:
    return figures.kind == "final"


def period_name(figures: Figures, t: Translator) -> str:
    """ "2026-W49 周报" or "整治总结"."""
    return t("report.doc.period_final") if is_final(figures) else t("report.doc.period_week", label=figures.period)


def title(figures: Figures, t: Translator) -> str:
    key = "report.doc.title_final" if is_final(figures) else "report.doc.title_week"
    return t(key, campaign=figures.campaign)


def line_name(line: Line, t: Translator) -> str:
    """A unit's name; the hazards with no responsible unit named are a row of their own."""
    return line.name or t("report.doc.unassigned")


def phase_name(label: str, t: Translator) -> str:
    """A phase's name from the catalogue when the label is a phase id (mobilisation, ...), else the label."""
    key = f"report.phase.{label}"
    text = t(key)
    return label if text == key else text


def figure_name(name: str, t: Translator) -> str:
    return t(f"report.figure.{name}")


def figure_text(figures: Figures, name: str) -> str:
    """A key figure's value as text (for the PDF); the spreadsheet keeps the numbers."""
    value = getattr(figures, name)
    if name == "rate":
        return percent(value)
    if name == "median_hours_to_rectify":
        return hours(value)
    return str(value)


def is_campaign_wide(figures: Figures) -> bool:
    """The final summary, or the dashboard's campaign to date: the period is the campaign so far."""
    return figures.kind in ("final", "to_date")


def key_figures(figures: Figures) -> tuple[str, ...]:
    """The figures worth showing: the to-date counts repeat the period's when the period is the campaign."""
    if is_campaign_wide(figures):
        return tuple(name for name in KEY_FIGURES if name not in TO_DATE)
    return KEY_FIGURES


def text_columns(text: str) -> int:
    """How wide `text` shows in a fixed-width sense: a Chinese character takes two columns, a Latin one."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)
