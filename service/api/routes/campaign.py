"""Campaign reports: the weeks, the reports made (figures, PDF, XLSX) and live figures, scoped to the caller."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel

from service.actions.campaign import (
    REPORT_READERS,
    campaign_of,
    list_reports,
    live_figures,
    load_report,
    read_report_file,
)
from service.auth.keys import Principal
from service.deps import RowId, RuntimeDep, SessionDep, require
from service.reports.events import file_stem
from service.reports.figures import Figures
from service.reports.periods import final, weeks
from service.store.campaign_models import MEDIA_TYPES

router = APIRouter(prefix="/api/v1/campaign", tags=["campaign reports"])
Reader = Depends(require(*REPORT_READERS))


class PeriodView(BaseModel):
    kind: str
    label: str
    starts_at: datetime
    ends_at: datetime
    due_at: datetime


class CampaignView(BaseModel):
    name: str
    starts: date
    ends: date
    timezone: str
    periods: list[PeriodView]


class ReportSummary(BaseModel):
    id: int
    kind: str
    period: str
    unit_id: str
    unit_name: str
    starts_at: datetime
    ends_at: datetime
    made_at: datetime
    pdf_sha256: str
    xlsx_sha256: str


class ReportDetail(ReportSummary):
    figures: Figures


def _summary(report: object, figures: dict) -> dict:
    fields = ("id", "kind", "period", "unit_id", "starts_at", "ends_at", "made_at", "pdf_sha256", "xlsx_sha256")
    return {f: getattr(report, f) for f in fields} | {"unit_name": figures.get("unit_name", "")}


@router.get("", response_model=CampaignView)
def get_campaign(runtime: RuntimeDep, who: Principal = Reader) -> CampaignView:
    """The campaign and its report periods: each week runs to its cut-off (the deadline less the preparation)."""
    site = runtime.sites.current()
    campaign = campaign_of(site)
    periods = [*weeks(campaign, site.zone), final(campaign, site.zone)]
    return CampaignView(
        name=campaign.name,
        starts=campaign.starts,
        ends=campaign.ends,
        timezone=site.timezone,
        periods=[PeriodView(**p.__dict__) for p in periods],
    )


@router.get("/reports", response_model=list[ReportSummary])
def get_reports(session: SessionDep, runtime: RuntimeDep, who: Principal = Reader) -> list[ReportSummary]:
    """The reports made so far that the caller may read, newest first."""
    site = runtime.sites.current()
    return [ReportSummary(**_summary(r, r.figures)) for r in list_reports(session, site, who)]


@router.get(
    "/reports/{report_id}.{fmt}",
    response_class=Response,
    responses={200: {"content": {MEDIA_TYPES["pdf"]: {}, MEDIA_TYPES["xlsx"]: {}}, "description": "the file sent"}},
)
def get_report_file(
    report_id: RowId, fmt: Literal["pdf", "xlsx"], session: SessionDep, runtime: RuntimeDep, who: Principal = Reader
) -> Response:
    """The file exactly as made and sent, verified against its SHA-256 (sent as X-Content-SHA256)."""
    site = runtime.sites.current()
    report = load_report(session, site, who, report_id)
    data, media_type = read_report_file(session, site, who, report_id, fmt)
    headers = {
        "Content-Disposition": f'attachment; filename="{file_stem(report)}.{fmt}"',
        "X-Content-SHA256": getattr(report, f"{fmt}_sha256"),
        "Cache-Control": "private, no-store",
    }
    return Response(data, media_type=media_type, headers=headers)


@router.get("/reports/{report_id}", response_model=ReportDetail)
def get_report(report_id: RowId, session: SessionDep, runtime: RuntimeDep, who: Principal = Reader) -> ReportDetail:
    report = load_report(session, runtime.sites.current(), who, report_id)
    return ReportDetail(**_summary(report, report.figures), figures=Figures.model_validate(report.figures))


@router.get("/figures", response_model=Figures)
def get_figures(
    session: SessionDep,
    runtime: RuntimeDep,
    week: str | None = Query(None, description="YYYY-Www, or 'final'; default the current week"),
    unit: str | None = Query(None, description="an agency id or 'county'; default your own"),
    who: Principal = Reader,
) -> Figures:
    """A period's figures computed now from the store (a report already made keeps what it said then)."""
    return live_figures(session, runtime.sites.current(), who, week, unit)
