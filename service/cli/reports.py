"""`clearway report weekly|final`: a campaign report on demand, as PDF and XLSX files in a folder.

On demand means a preview: the files are made from the store as it is now and written out; nothing is stored
or sent (the schedule does that, once per unit and period). docs/reports.md describes the figures.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from service.cli.common import database_with_site, fail
from service.config.settings import Settings
from service.config.site import load_site
from service.reports import display
from service.reports.periods import final, find_week, week_at
from service.store.campaign_models import COUNTY
from service.store.db import utcnow


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from service.reports.events import stem_of
    from service.reports.making import figures_for, find_unit, render  # matplotlib, reportlab: only when used

    site = load_site(settings.site_file)
    campaign = site.campaign
    if campaign is None:
        return fail(f"{settings.site_file} has no campaign section (see docs/reports.md)")
    try:
        if args.report_command == "final":
            period = final(campaign, site.zone)
        elif args.week:
            period = find_week(campaign, site.zone, args.week)
        else:
            period = week_at(campaign, site.zone, utcnow())
            if period is None:
                return fail(f"the campaign starts on {campaign.starts}; there is no week to report yet")
        unit = find_unit(site, args.unit)
    except ValueError as exc:
        return fail(str(exc))
    db = database_with_site(settings)
    try:
        with db.session() as session:
            figures = figures_for(session, site, campaign, period, unit)
    finally:
        db.dispose()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = out / stem_of(period.label, unit.id)
    pdf, xlsx = stem.with_suffix(".pdf"), stem.with_suffix(".xlsx")
    pdf_data, xlsx_data = render(figures, site, args.language or campaign.language, utcnow())
    pdf.write_bytes(pdf_data)
    xlsx.write_bytes(xlsx_data)
    rate = display.percent(figures.rate)
    print(f"{period.kind} report {period.label} for {unit.name} ({unit.id})")
    print(f"  found {figures.found}, rectified {figures.rectified}, open {figures.open}, overdue {figures.overdue}")
    print(f"  rectification rate to date {rate}")
    print(f"  wrote {pdf}\n  wrote {xlsx}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    report = sub.add_parser("report", help="campaign reports on demand (PDF and XLSX)").add_subparsers(
        dest="report_command", required=True
    )
    weekly = report.add_parser("weekly", help="a week's progress report (default: the current week)")
    weekly.add_argument("--week", help="ISO week of the Friday deadline, e.g. 2026-W49")
    final_parser = report.add_parser("final", help="the campaign summary, by phase")
    for parser in (weekly, final_parser):
        parser.add_argument("--unit", default=COUNTY, help="an agency id, or 'county' (default) for everything")
        parser.add_argument("--out", default=".", help="folder for the files (default: here)")
        parser.add_argument("--language", choices=("zh", "en"), help="default: the campaign's language")
        parser.set_defaults(func=cmd_report)
