"""The campaign report as a spreadsheet: the same figures as the PDF, as typed cells people can sort, filter and
add up (the county office merges the units' sheets).

Why typed: counts are numbers, rates are fractions shown as percents, times are real (naive, local) dates, so
a formula or a pivot table works on them without retyping; each sheet has a frozen header and filters.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from service.locale import Translator
from service.reports.display import (
    DEFAULT_ZONE,
    KEY_FIGURES,
    figure_name,
    is_final,
    line_name,
    local,
    period_name,
    phase_name,
    text_columns,
)
from service.reports.figures import Figures, Line, TrendPoint

PERCENT = "0.0%"
TIME = "yyyy-mm-dd hh:mm"
HOURS = "0.0"
SHEET_TITLE = re.compile(r"[\[\]:*?/\\]")
HEADER_FILL = PatternFill("solid", fgColor="DCE6F0")
LINE_COLUMNS = ("found", "rectified", "open", "overdue", "rate")

Row = Sequence[object]


def report_xlsx(figures: Figures, t: Translator, zone: ZoneInfo = DEFAULT_ZONE) -> bytes:
    """The report as XLSX bytes: summary, kinds, sources, compounds, units, trend (phases), supervised."""
    book = Workbook()
    _summary(book.active, figures, t, zone)
    kinds = [[t(f"kind.{code}"), n] for code, n in figures.found_by_kind.items()]
    _fill(_sheet(book, t("report.sheet.kinds")), [t("report.col.kind"), t("report.col.count")], kinds)
    sources = [[t(f"source.{code}"), n, n / figures.found] for code, n in figures.found_by_source.items()]
    header = [t("report.col.source"), t("report.col.count"), t("report.col.share")]
    _fill(_sheet(book, t("report.sheet.sources")), header, sources, {3: PERCENT})
    _lines(_sheet(book, t("report.sheet.compounds")), t("report.col.compound"), figures.compounds, t)
    _lines(_sheet(book, t("report.sheet.units")), t("report.col.unit"), figures.units, t)
    _points(_sheet(book, t("report.sheet.trend")), t("report.col.week"), figures.trend, lambda label: label, t)
    if is_final(figures):
        phases = _sheet(book, t("report.sheet.phases"))
        _points(phases, t("report.col.phase"), figures.phases, lambda label: phase_name(label, t), t)
    _supervised(_sheet(book, t("report.sheet.supervised")), figures, t, zone)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _summary(sheet: Worksheet, figures: Figures, t: Translator, zone: ZoneInfo) -> None:
    """What the report is (campaign, unit, period and its local bounds), then every key figure, one per row."""
    sheet.title = _title(t("report.sheet.summary"))
    rows: list[Row] = [
        [figure_name("campaign", t), figures.campaign],
        [figure_name("unit", t), figures.unit_name],
        [figure_name("period", t), period_name(figures, t)],
        [figure_name("starts_at", t), local(figures.starts_at, zone)],
        [figure_name("ends_at", t), local(figures.ends_at, zone)],
        *([figure_name(name, t), getattr(figures, name)] for name in KEY_FIGURES),
    ]
    _fill(sheet, [t("report.col.figure"), t("report.col.value")], rows)
    formats = {"starts_at": TIME, "ends_at": TIME, "rate": PERCENT, "median_hours_to_rectify": HOURS}
    names = {figure_name(name, t): number_format for name, number_format in formats.items()}
    for name_cell, value_cell in sheet.iter_rows(min_row=2, max_col=2):
        value_cell.number_format = names.get(str(name_cell.value), value_cell.number_format)
    sheet.column_dimensions["B"].width = max(sheet.column_dimensions["B"].width, 18)


def _lines(sheet: Worksheet, first: str, lines: list[Line], t: Translator) -> None:
    header = [first, *(t(f"report.col.{c}") for c in LINE_COLUMNS)]
    rows = [[line_name(line, t), line.found, line.rectified, line.open, line.overdue, line.rate] for line in lines]
    _fill(sheet, header, rows, {6: PERCENT})


def _points(sheet: Worksheet, first: str, points: list[TrendPoint], name: Callable[[str], str], t: Translator) -> None:
    header = [first, *(t(f"report.col.{c}") for c in LINE_COLUMNS)]
    rows = [[name(p.label), p.found, p.rectified, p.open, p.overdue, p.rate] for p in points]
    _fill(sheet, header, rows, {6: PERCENT})


def _supervised(sheet: Worksheet, figures: Figures, t: Translator, zone: ZoneInfo) -> None:
    columns = ("number", "compound", "kind", "opened_at", "deadline", "unit", "status")
    rows = [
        [
            h.number,
            h.compound,
            t(f"kind.{h.kind}"),
            local(h.opened_at, zone),
            local(h.deadline, zone) if h.deadline else None,
            h.responsible or t("report.doc.unassigned"),
            t(f"status.{h.status}"),
        ]
        for h in figures.supervised
    ]
    _fill(sheet, [t(f"report.col.{c}") for c in columns], rows, {4: TIME, 5: TIME})


def _sheet(book: Workbook, title: str) -> Worksheet:
    return book.create_sheet(_title(title))


def _title(text: str) -> str:
    """A sheet title Excel accepts: at most 31 characters, none of []:*?/\\."""
    return SHEET_TITLE.sub(" ", text).strip()[:31] or "Sheet"


def _fill(sheet: Worksheet, header: Sequence[str], rows: Sequence[Row], formats: dict[int, str] | None = None) -> None:
    """Header and rows, with number formats by column (1-based), a frozen header row, filters and widths that
    fit the longest text (a Chinese character is two columns wide)."""
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
    for column, number_format in (formats or {}).items():
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column, max_col=column):
            cell.number_format = number_format
    for index in range(1, len(header) + 1):
        texts = [_shown(cell.value) for (cell,) in sheet.iter_rows(min_col=index, max_col=index)]
        sheet.column_dimensions[get_column_letter(index)].width = min(60, max(8, *map(text_columns, texts)) + 2)
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"


def _shown(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "strftime"):
        return "2026-01-01 00:00"
    if isinstance(value, float):
        return f"{value:.1%}"
    return str(value)
