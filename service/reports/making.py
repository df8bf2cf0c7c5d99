"""Making one campaign report: whose it is, its figures from the store, its PDF and XLSX, its stored row.

Why one place: the schedule, the CLI and the pages all make reports the same way, so a report made on demand
holds exactly what the scheduled one would. A unit's report covers what that unit sees in the service (its own
compounds, or for a bureau what was routed to it); the county's covers everything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth.keys import ROLE_FOR_AGENCY_KIND
from service.config.campaign import Campaign
from service.config.duties import AgencyKind
from service.config.site import Site
from service.locale import translator
from service.reports.facts import load_facts
from service.reports.figures import Figures, compute
from service.reports.periods import FINAL, Period, phases, weeks
from service.reports.report_pdf import report_pdf
from service.reports.report_xlsx import report_xlsx
from service.store.campaign_models import COUNTY, CampaignReport
from service.store.db import utcnow


@dataclass(frozen=True)
class ReportViewer:
    """The scope a report is made in (service/store/scope.py reads role and agency_id)."""

    role: str
    agency_id: str | None


@dataclass(frozen=True)
class Unit:
    id: str  # an agency id, or "county"
    name: str
    viewer: ReportViewer
    agency_ids: tuple[str, ...]  # who receives this unit's report (before the campaign's recipients rule)


def report_units(site: Site) -> list[Unit]:
    """The county first, then every unit that works hazards in the service, in the site file's order."""
    campaign = site.campaign
    county_ids = campaign.recipients.county if campaign and campaign.recipients.county is not None else None
    if county_ids is None:
        county_ids = tuple(a.id for a in site.agencies if a.kind == AgencyKind.county_office)
    units = [Unit(COUNTY, site.name, ReportViewer("county", None), tuple(county_ids))]
    for agency in site.agencies:
        role = ROLE_FOR_AGENCY_KIND.get(agency.kind.value)
        if role is None or role == "fire":  # the fire brigade reads the county's report
            continue
        own = (agency.id,) if campaign is None or campaign.recipients.units else ()
        units.append(Unit(agency.id, agency.name, ReportViewer(role, agency.id), own))
    return units


def find_unit(site: Site, unit_id: str) -> Unit:
    for unit in report_units(site):
        if unit.id == unit_id:
            return unit
    known = ", ".join(u.id for u in report_units(site))
    raise ValueError(f"no report unit {unit_id!r}; units are: {known}")


def figures_for(session: Session, site: Site, campaign: Campaign, period: Period, unit: Unit) -> Figures:
    """The report's figures, from the store as it is now."""
    zone = site.zone
    facts = load_facts(session, unit.viewer, period.ends_at)
    return compute(
        facts,
        period,
        weeks(campaign, zone),
        (unit.id, unit.name),
        campaign.name,
        {c.id: c.name for c in site.compounds},
        {a.id: a.name for a in site.agencies},
        phases(campaign, zone) if period.label == FINAL else (),
    )


def render(figures: Figures, site: Site, language: str, made_at: datetime) -> tuple[bytes, bytes]:
    """The report's PDF and XLSX in `language`, times in the site's zone."""
    t = translator(language)
    return report_pdf(figures, t, site.zone, generated_at=made_at), report_xlsx(figures, t, site.zone)


def make_report(
    session: Session, site: Site, campaign: Campaign, period: Period, unit: Unit, made_by: str, now: datetime | None
) -> CampaignReport:
    """Compute and render the report and add its row to `session` (flushed: a second one fails the unique key)."""
    figures = figures_for(session, site, campaign, period, unit)
    made_at = now or utcnow()
    pdf, xlsx = render(figures, site, campaign.language, made_at)
    report = CampaignReport(
        kind=period.kind,
        period=period.label,
        unit_id=unit.id,
        starts_at=period.starts_at,
        ends_at=period.ends_at,
        made_at=made_at,
        made_by=made_by,
        language=campaign.language,
        figures=figures.model_dump(mode="json"),
        pdf=pdf,
        xlsx=xlsx,
        pdf_sha256=hashlib.sha256(pdf).hexdigest(),
        xlsx_sha256=hashlib.sha256(xlsx).hexdigest(),
    )
    session.add(report)
    session.flush()
    return report


def made_units(session: Session, period: Period) -> set[str]:
    """The units whose report for `period` is already made."""
    query = select(CampaignReport.unit_id).where(
        CampaignReport.kind == period.kind, CampaignReport.period == period.label
    )
    return set(session.scalars(query))
