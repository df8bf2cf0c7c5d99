"""The few plain sentences at the top of a report: what a reader at the county office needs if they read nothing
else (found, rectified, the rate; who is overdue; the supervised major hazards still open).

Why generated: every number comes from the report's `Figures`, so the words can never disagree with the
tables; the wording is the catalogue's (keys report.summary.*), in the report's language.
"""

from __future__ import annotations

from service.locale import Translator
from service.reports.display import is_campaign_wide, line_name, percent_value
from service.reports.figures import Figures

NAMED_UNITS = 5  # the overdue sentence names at most this many units, the worst first


def summary(figures: Figures, t: Translator) -> list[str]:
    """2 to 4 sentences, each one string, in reading order."""
    sentences = [_found(figures, t)]
    if figures.overdue:
        sentences.append(_overdue(figures, t))
    elif figures.open:
        sentences.append(t("report.summary.open_in_time", open=figures.open))
    elif figures.found_to_date:
        sentences.append(t("report.summary.all_rectified"))
    if figures.supervised_open:
        sentences.append(t("report.summary.supervised", n=figures.supervised_open))
    if figures.escalated:
        key = "report.summary.escalated_final" if is_campaign_wide(figures) else "report.summary.escalated"
        sentences.append(t(key, n=figures.escalated))
    return sentences


def _found(figures: Figures, t: Translator) -> str:
    values = {
        "found": figures.found,
        "rectified": figures.rectified,
        "on_time": figures.rectified_on_time,
        "rate": percent_value(figures.rate),
    }
    if is_campaign_wide(figures):
        return t("report.summary.final", **values) if figures.found_to_date else t("report.summary.final_empty")
    if not figures.found_to_date:
        return t("report.summary.week_empty")
    return t("report.summary.week" if figures.found else "report.summary.week_none", **values)


def _overdue(figures: Figures, t: Translator) -> str:
    named = [
        t("report.summary.unit_count", name=line_name(u, t), n=u.overdue) for u in figures.overdue_units[:NAMED_UNITS]
    ]
    names = t("report.summary.list_sep").join(named)
    if len(figures.overdue_units) > NAMED_UNITS:
        names += t("report.summary.etc")
    return t("report.summary.overdue", overdue=figures.overdue, units=len(figures.overdue_units), names=names)
