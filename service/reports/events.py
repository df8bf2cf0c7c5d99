"""A campaign report's event: what its deliveries carry (schema clearway.campaign-report/1).

Made in the transaction that stores the report, in the campaign's language, so every channel says the same
thing: a title, the summary sentences, the key figures and the links (page, PDF, XLSX). Webhooks and MQTT get
the whole figures object too, for machines to read. docs/reports.md shows one.
"""

from __future__ import annotations

from service.delivery.report_messages import REPORT_SCHEMA
from service.locale import Translator
from service.reports import display
from service.reports.figures import Figures
from service.reports.summary import summary
from service.store.campaign_models import CampaignReport


def report_event(report: CampaignReport, figures: Figures, t: Translator, public_url: str) -> dict:
    base = public_url.rstrip("/")
    name = file_stem(report)
    facts = ("found", "rectified", "rectified_on_time", "open", "overdue", "rate")
    return {
        "schema": REPORT_SCHEMA,
        "event": f"{report.kind}_report",
        "event_id": report.id,
        "occurred_at": report.made_at.isoformat(),
        "actor": report.made_by,
        "report": {
            "id": report.id,
            "kind": report.kind,
            "period": report.period,
            "unit": {"id": figures.unit_id, "name": figures.unit_name},
            "campaign": figures.campaign,
            "starts_at": figures.starts_at.isoformat(),
            "ends_at": figures.ends_at.isoformat(),
            "title": f"{display.title(figures, t)} · {figures.unit_name} · {display.period_name(figures, t)}",
            "summary": summary(figures, t),
            "facts": [[display.figure_name(n, t), display.figure_text(figures, n)] for n in facts],
            "links": [
                [t("report.link.page"), f"{base}/web/reports/{report.id}"],
                [t("report.link.pdf"), f"{base}/api/v1/campaign/reports/{report.id}.pdf"],
                [t("report.link.xlsx"), f"{base}/api/v1/campaign/reports/{report.id}.xlsx"],
            ],
            "files": {"pdf": f"{name}.pdf", "xlsx": f"{name}.xlsx"},
            "pdf_sha256": report.pdf_sha256,
            "xlsx_sha256": report.xlsx_sha256,
            "figures": report.figures,
        },
    }


def file_stem(report: CampaignReport) -> str:
    return stem_of(report.period, report.unit_id)


def stem_of(period: str, unit_id: str) -> str:
    """e.g. clearway-2026-W49-pm-lanting: sortable, and safe as a file name (ids are [A-Za-z0-9_.-])."""
    return f"clearway-{period}-{unit_id}"
