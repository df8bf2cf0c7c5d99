"""How a campaign report reads in a message: laid out from what its event already says, in the campaign's language.

The report's event (schema clearway.campaign-report/1) is made with the report (service/reports/events.py) and
carries its title, summary sentences, key facts and links already translated, so the channels only lay
them out, as they do a hazard's facts (service/delivery/messages.py).
"""

from __future__ import annotations

REPORT_SCHEMA = "clearway.campaign-report/1"


def is_report(event: dict) -> bool:
    return event.get("schema") == REPORT_SCHEMA


def report_title(event: dict) -> str:
    return f"[Clearway] {event['report']['title']}"


def report_markdown(event: dict, reference: str, limit_bytes: int = 4000) -> str:
    """Markdown for the WeCom and DingTalk robots: the summary, the key figures, links to the page and files."""
    report = event["report"]
    lines = [f"### {report_title(event)}", ""]
    lines += [*report["summary"], ""]
    lines += [f"**{label}:** {value}  " for label, value in report["facts"]]
    lines += ["", " | ".join(f"[{label}]({url})" for label, url in report["links"]), "", f"ref {reference}"]
    text = "\n".join(lines)
    encoded = text.encode()
    return text if len(encoded) <= limit_bytes else encoded[: limit_bytes - 3].decode(errors="ignore") + "..."


def report_text(event: dict, reference: str) -> str:
    """The e-mail body (the PDF and the XLSX are attached)."""
    report = event["report"]
    lines = [report_title(event), "", *report["summary"], ""]
    lines += [f"{label}: {value}" for label, value in report["facts"]]
    lines += [""] + [f"{label}: {url}" for label, url in report["links"]]
    lines += ["", f"Reference (idempotency key): {reference}"]
    return "\n".join(lines) + "\n"
