"""Campaign pages: the county dashboard (the campaign to date, scoped to the reader's unit), the reports made,
and each report as it was sent, with its PDF and XLSX.

Charts are PNGs drawn on the server (service/reports/charts.py) and embedded as data: URIs, so the strict CSP
(img-src 'self' data:) holds and no script or CDN is needed.
"""

from __future__ import annotations

import base64
from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from service.actions.campaign import (
    REPORT_READERS,
    dashboard_figures,
    list_reports,
    load_report,
    read_report_file,
    readable_units,
)
from service.actions.errors import ActionError, Conflict
from service.deps import RowId, RuntimeDep, SessionDep
from service.locale import Translator
from service.reports import display
from service.reports.charts import bar_chart, kinds_chart, line_chart, trend_chart
from service.reports.events import file_stem
from service.reports.figures import Figures
from service.reports.summary import summary
from service.store.scope import visible_compound_ids
from service.web.i18n import language_of, translator
from service.web.pages import PageError, PersonDep, WebDep, csrf_guard, render
from service.web.status import camera_health

router = APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(csrf_guard)])


def _reader(role: str) -> None:
    if role not in REPORT_READERS:
        raise PageError(403, "error.forbidden")


def _png(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def report_charts(figures: Figures, t: Translator) -> dict[str, str]:
    """The report's own two charts, as the PDF shows them."""
    return {"trend": _png(trend_chart(figures, t)), "kinds": _png(kinds_chart(figures, t))}


def dashboard_charts(figures: Figures, t: Translator, county_wide: bool) -> dict[str, str]:
    trend = figures.trend
    charts = {
        "rate": _png(
            line_chart(t("dash.chart.rate"), [p.label for p in trend], {t("dash.rate"): [p.rate for p in trend]}, True)
        ),
        "compounds": _png(_open_overdue(t("dash.chart.compounds"), figures.compounds, t)),
        "kinds": _png(kinds_chart(figures, t)),
        "sources": _png(
            bar_chart(
                t("dash.chart.sources"),
                [t(f"source.{code}") for code in figures.found_by_source],
                {t("dash.found"): list(figures.found_by_source.values())},
                horizontal=True,
                empty=t("dash.none"),
            )
        ),
    }
    if county_wide:
        charts["units"] = _png(_open_overdue(t("dash.chart.units"), figures.units, t))
    return charts


def _figures_context(figures: Figures, t: Translator) -> dict:
    """What _figures.html needs, worded as the PDF words it (service/reports/display.py)."""
    names = display.key_figures(figures)
    return {
        "figures": figures,
        "summary": summary(figures, t),
        "key_figures": [(display.figure_name(n, t), display.figure_text(figures, n)) for n in names],
        "line_name": lambda line: display.line_name(line, t),
        "percent": display.percent,
    }


def _open_overdue(title: str, lines: list, t: Translator) -> bytes:
    return bar_chart(
        title,
        [display.line_name(line, t) for line in lines],
        {t("dash.open"): [line.open for line in lines], t("dash.overdue"): [line.overdue for line in lines]},
        horizontal=True,
        empty=t("dash.none"),
    )


@router.get("/dashboard", response_class=HTMLResponse)
def dashboard(
    request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep, web: WebDep, unit: str | None = None
) -> HTMLResponse:
    _reader(who.role)
    site = runtime.sites.current()
    t = translator(language_of(request, web))
    try:
        figures = dashboard_figures(session, site, who, unit)
    except ActionError as exc:
        return render(request, "dashboard.html", nav="dashboard", figures=None, problem=exc.message)
    units = readable_units(site, who)
    visible = visible_compound_ids(session, who)
    cameras = [c for c in site.cameras if visible is None or c.compound in visible]
    health = camera_health(session, cameras, web, runtime.streams)
    statuses: dict[str, int] = {}
    for state in health.values():
        statuses[state["status"]] = statuses.get(state["status"], 0) + 1
    return render(
        request,
        "dashboard.html",
        nav="dashboard",
        problem="",
        units=units if len(units) > 1 else [],
        charts=dashboard_charts(figures, t, figures.unit_id == "county"),
        cameras=[(c, health[c.id]) for c in cameras],
        camera_statuses=statuses,
        **_figures_context(figures, t),
    )


@router.get("/reports", response_class=HTMLResponse)
def reports_page(request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep) -> HTMLResponse:
    _reader(who.role)
    site = runtime.sites.current()
    rows = list_reports(session, site, who)
    return render(request, "reports.html", nav="reports", reports=rows, campaign=site.campaign, percent=display.percent)


@router.get("/reports/{report_id}.{fmt}")
def report_file(
    report_id: RowId, fmt: Literal["pdf", "xlsx"], runtime: RuntimeDep, session: SessionDep, who: PersonDep
) -> Response:
    """The file exactly as made and sent."""
    _reader(who.role)
    site = runtime.sites.current()
    try:
        report = load_report(session, site, who, report_id)
        data, media_type = read_report_file(session, site, who, report_id, fmt)
    except Conflict:
        raise PageError(409, "error.tampered") from None
    except ActionError:
        raise PageError(404, "error.not_found") from None
    disposition = f'attachment; filename="{file_stem(report)}.{fmt}"'
    return Response(data, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/reports/{report_id}", response_class=HTMLResponse)
def report_page(
    report_id: RowId, request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep, web: WebDep
) -> HTMLResponse:
    """The report as sent: its stored figures, in the reader's language."""
    _reader(who.role)
    try:
        report = load_report(session, runtime.sites.current(), who, report_id)
    except ActionError:
        raise PageError(404, "error.not_found") from None
    figures = Figures.model_validate(report.figures)
    t = translator(language_of(request, web))
    return render(
        request,
        "campaign_report.html",
        nav="reports",
        report=report,
        title=display.title(figures, t),
        period_name=display.period_name(figures, t),
        charts=report_charts(figures, t),
        phase_name=lambda label: display.phase_name(label, t),
        **_figures_context(figures, t),
    )
