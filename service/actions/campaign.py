"""Campaign reports as the API and the pages offer them: which reports a caller may read, and live figures.

A unit reads its own reports; the county, the fire brigade and admins read every unit's and the county's.
Anything else is answered as not found, so report ids cannot be probed.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from service.actions.errors import Conflict, Invalid, NotFound
from service.config.campaign import Campaign
from service.config.site import Site
from service.reports.figures import Figures
from service.reports.making import Unit, figures_for, report_units
from service.reports.periods import Period, campaign_bounds, final, find_week, week_at
from service.store.campaign_models import COUNTY, CampaignReport, ReportTamperedError, report_file
from service.store.db import utcnow
from service.store.scope import SEE_ALL, Viewer

TO_DATE = "to_date"  # the dashboard's period: the campaign so far
REPORT_READERS = ("property", "township", "police", "fire", "bureau", "county", "admin")


def campaign_of(site: Site) -> Campaign:
    if site.campaign is None:
        raise NotFound("the site file has no campaign section", "no_campaign")
    return site.campaign


def readable_units(site: Site, who: Viewer) -> list[Unit]:
    """The units whose reports `who` may read: all of them county-wide, else its own."""
    units = report_units(site)
    return units if who.role in SEE_ALL else [u for u in units if u.id == who.agency_id]


def list_reports(session: Session, site: Site, who: Viewer, limit: int = 200) -> list[CampaignReport]:
    """The newest first, without their files (those are read one at a time)."""
    ids = [u.id for u in readable_units(site, who)]
    query = (
        select(CampaignReport)
        .where(CampaignReport.unit_id.in_(ids))
        .options(defer(CampaignReport.pdf), defer(CampaignReport.xlsx))
        .order_by(CampaignReport.ends_at.desc(), CampaignReport.id)
        .limit(limit)
    )
    return list(session.scalars(query))


def load_report(session: Session, site: Site, who: Viewer, report_id: int) -> CampaignReport:
    report = session.get(CampaignReport, report_id)
    if report is None or report.unit_id not in {u.id for u in readable_units(site, who)}:
        raise NotFound(f"no campaign report {report_id}")
    return report


def read_report_file(session: Session, site: Site, who: Viewer, report_id: int, kind: str) -> tuple[bytes, str]:
    """The PDF or XLSX as made and sent, if it still matches its hash (Conflict when altered)."""
    report = load_report(session, site, who, report_id)
    try:
        found = report_file(session, report.id, kind)
    except ReportTamperedError as exc:
        raise Conflict(str(exc), "tampered") from None
    if found is None:
        raise NotFound(f"campaign report {report_id} has no {kind!r} file")
    return found


def default_unit(who: Viewer) -> str:
    return COUNTY if who.role in SEE_ALL else (who.agency_id or COUNTY)


def choose_period(campaign: Campaign, site: Site, week: str | None) -> Period:
    """`week` (YYYY-Www), 'final', or the current week."""
    try:
        if week == "final":
            return final(campaign, site.zone)
        if week:
            return find_week(campaign, site.zone, week)
    except ValueError as exc:
        raise Invalid(str(exc), "bad_week") from None
    period = week_at(campaign, site.zone, utcnow())
    if period is None:
        raise NotFound(f"the campaign starts on {campaign.starts}", "campaign_not_started")
    return period


def dashboard_figures(session: Session, site: Site, who: Viewer, unit_id: str | None) -> Figures:
    """The campaign to date for a unit: found since the first day, open and overdue now, the weeks so far."""
    campaign = campaign_of(site)
    start, end = campaign_bounds(campaign, site.zone)
    now = utcnow()
    if now <= start:
        raise NotFound(f"the campaign starts on {campaign.starts}", "campaign_not_started")
    period = Period(TO_DATE, TO_DATE, start, min(now, end), now)
    return figures_for(session, site, campaign, period, _readable_unit(site, who, unit_id))


def _readable_unit(site: Site, who: Viewer, unit_id: str | None) -> Unit:
    wanted = unit_id or default_unit(who)
    for unit in readable_units(site, who):
        if unit.id == wanted:
            return unit
    raise NotFound(f"no report unit {wanted!r} for you")


def live_figures(session: Session, site: Site, who: Viewer, week: str | None, unit_id: str | None) -> Figures:
    """The figures of a period as the store holds them now (the stored reports keep what was sent)."""
    campaign = campaign_of(site)
    period = choose_period(campaign, site, week)
    return figures_for(session, site, campaign, period, _readable_unit(site, who, unit_id))
