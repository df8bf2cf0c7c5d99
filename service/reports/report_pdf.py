"""The campaign report as an A4 PDF: what a unit sends up and the county office files, read on paper.

Why this shape: the plan asks each unit for the week's figures, what is overdue and who answers for it (通报),
and the county-supervised major hazards (挂牌督办); the summary sentences come first for a reader with one
minute, the tables after for one who checks. Every number is the report's `Figures`; every time is local.
"""

from __future__ import annotations

import io
import threading
from datetime import UTC, datetime
from functools import partial
from zoneinfo import ZoneInfo

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer

from service.locale import Translator
from service.reports.charts import kinds_chart, trend_chart
from service.reports.display import (
    DEFAULT_ZONE,
    figure_name,
    figure_text,
    is_final,
    key_figures,
    line_name,
    percent,
    period_name,
    phase_name,
    span,
    title,
    when,
)
from service.reports.figures import Figures, Line, TrendPoint
from service.reports.pdf_parts import MUTED, Styles, chart, font, table
from service.reports.summary import summary

MARGIN = 15 * mm
CHART_WIDTH = 160 * mm  # with the key figures, both charts fit on the first page (up to a handful of kinds)
LINE_WIDTHS = (75, 21, 21, 21, 21, 21)
SUPERVISED_WIDTHS = (13, 33, 38, 22, 22, 32, 20)
BUILD_LOCK = threading.Lock()
"""reportlab keeps one subset per registered font for the whole process: two documents built at once in two
threads (two report schedulers, or a page and the schedule) corrupt it (KeyError in makeSubset)."""


def report_pdf(
    figures: Figures, t: Translator, zone: ZoneInfo = DEFAULT_ZONE, generated_at: datetime | None = None
) -> bytes:
    """The report as PDF bytes, in the language of `t`, with times in `zone`."""
    styles = Styles()
    buffer = io.BytesIO()
    heading = f"{title(figures, t)} · {figures.unit_name} · {period_name(figures, t)}"
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 5 * mm,
        title=heading,
        author=figures.unit_name,
        subject=span(figures, zone),
        initialFontName=font(),
    )
    made = when(generated_at or datetime.now(UTC), zone)
    footer = partial(_footer, left=heading, right=t("report.doc.generated", at=made), t=t)
    with BUILD_LOCK:
        document.build(_story(figures, t, zone, styles), onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


def _story(figures: Figures, t: Translator, zone: ZoneInfo, s: Styles) -> list[Flowable]:
    story: list[Flowable] = [
        s.para(title(figures, t), s.title),
        s.para(f"{t('report.doc.unit', unit=figures.unit_name)} · {period_name(figures, t)}", s.subtitle),
        s.para(t("report.doc.span", span=span(figures, zone)), s.subtitle),
        s.para(t("report.doc.summary"), s.heading),
        *(s.para(sentence, s.body) for sentence in summary(figures, t)),
        s.para(t("report.doc.key_figures"), s.heading),
        _key_figures(figures, t, s),
    ]
    if figures.found_to_date:  # on paper an empty chart says no more than the zeros above it
        story += [Spacer(1, 4 * mm), chart(trend_chart(figures, t), CHART_WIDTH)]
    if figures.found:
        story += [Spacer(1, 3 * mm), chart(kinds_chart(figures, t), CHART_WIDTH)]
    if is_final(figures):
        story += _section(t("report.doc.phases"), _points(figures.phases, t, s, phases=True), t, s)
    story += _section(t("report.doc.sources"), _sources(figures, t, s), t, s)
    story += _section(t("report.doc.compounds"), _lines(figures.compounds, t("report.col.compound"), t, s), t, s)
    if figures.compounds:
        story.append(s.para(t("report.doc.table_note"), s.note))
    story += _section(t("report.doc.units"), _lines(figures.units, t("report.col.unit"), t, s), t, s)
    story += _section(t("report.doc.overdue_units"), _overdue(figures, t, s), t, s)
    story += _section(t("report.doc.supervised"), _supervised(figures, t, zone, s), t, s)
    if figures.supervised_open > len(figures.supervised):
        more = t("report.doc.supervised_more", total=figures.supervised_open, shown=len(figures.supervised))
        story.append(s.para(more, s.note))
    return story


def _section(heading: str, body: Flowable | None, t: Translator, s: Styles) -> list[Flowable]:
    """A heading (kept with what follows it) and its table, or "none" when there is nothing to list."""
    return [s.para(heading, s.heading), body if body is not None else s.para(t("report.doc.none"), s.body)]


def _key_figures(figures: Figures, t: Translator, s: Styles) -> Flowable:
    """Two figures per row, so the table stays short."""
    cells = [(figure_name(name, t), figure_text(figures, name)) for name in key_figures(figures)]
    if len(cells) % 2:
        cells.append(("", ""))
    rows = [[*cells[i], *cells[i + 1]] for i in range(0, len(cells), 2)]
    header = [t("report.col.figure"), t("report.col.value")] * 2
    return table(s, header, rows, (60, 30, 60, 30), numeric=(1, 3))


def _sources(figures: Figures, t: Translator, s: Styles) -> Flowable | None:
    if not figures.found_by_source:
        return None
    rows = [[t(f"source.{code}"), str(n), percent(n / figures.found)] for code, n in figures.found_by_source.items()]
    header = [t("report.col.source"), t("report.col.count"), t("report.col.share")]
    return table(s, header, rows, (70, 25, 25))


def _counts(row: Line | TrendPoint) -> list[str]:
    return [str(row.found), str(row.rectified), str(row.open), str(row.overdue), percent(row.rate)]


def _line_row(line: Line, t: Translator) -> list[str]:
    return [line_name(line, t), *_counts(line)]


def _line_header(first: str, t: Translator) -> list[str]:
    return [first, *(t(f"report.col.{c}") for c in ("found", "rectified", "open", "overdue", "rate"))]


def _lines(lines: list[Line], first: str, t: Translator, s: Styles) -> Flowable | None:
    if not lines:
        return None
    return table(s, _line_header(first, t), [_line_row(line, t) for line in lines], LINE_WIDTHS)


def _overdue(figures: Figures, t: Translator, s: Styles) -> Flowable | None:
    """The units to be named, the most overdue first, with the overdue count highlighted."""
    if not figures.overdue_units:
        return None
    header = _line_header(t("report.col.unit"), t)
    rows = [_line_row(line, t) for line in figures.overdue_units]
    return table(s, header, rows, LINE_WIDTHS, alert_column=4)


def _points(points: list[TrendPoint], t: Translator, s: Styles, phases: bool) -> Flowable | None:
    if not points:
        return None
    first = t("report.col.phase" if phases else "report.col.week")
    rows = [[phase_name(p.label, t) if phases else p.label, *_counts(p)] for p in points]
    return table(s, _line_header(first, t), rows, LINE_WIDTHS)


def _supervised(figures: Figures, t: Translator, zone: ZoneInfo, s: Styles) -> Flowable | None:
    if not figures.supervised:
        return None
    columns = ("number", "compound", "kind", "opened_at", "deadline", "unit", "status")
    header = [t(f"report.col.{c}") for c in columns]
    rows = [
        [
            str(h.number),
            h.compound,
            t(f"kind.{h.kind}"),
            when(h.opened_at, zone),
            when(h.deadline, zone),
            h.responsible or t("report.doc.unassigned"),
            t(f"status.{h.status}"),
        ]
        for h in figures.supervised
    ]
    return table(s, header, rows, SUPERVISED_WIDTHS, numeric=(0,))


def _footer(canvas: Canvas, document: SimpleDocTemplate, left: str, right: str, t: Translator) -> None:
    """Each page's foot: what the report is, when it was made, and the page number."""
    canvas.saveState()
    canvas.setFont(font(), 7.5)
    canvas.setFillColor(MUTED)
    y = MARGIN - 2 * mm
    canvas.drawString(MARGIN, y, left)
    canvas.drawRightString(A4[0] - MARGIN, y, f"{right}　{t('report.doc.page', page=document.page)}")
    canvas.restoreState()
