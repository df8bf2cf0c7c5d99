"""Campaign reports as made: one row per kind, period and unit, with the figures and files that were sent.

Why a table: the schedule must make each report exactly once, across restarts and instances; the unique
(kind, period, unit) is what guarantees it, and the row is what the pages, the API and the deliveries read
(a report is never recomputed behind its readers' backs once sent).
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import JSON, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, Session, mapped_column

from service.store.db import Base, utcnow

COUNTY = "county"  # the unit id of the county-wide report


class CampaignReport(Base):
    __tablename__ = "campaign_reports"
    __table_args__ = (UniqueConstraint("kind", "period", "unit_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(8))  # weekly | final
    period: Mapped[str] = mapped_column(String(16))  # 2026-W49 | final
    unit_id: Mapped[str] = mapped_column(String(64), index=True)  # an agency id, or "county"
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    made_at: Mapped[datetime] = mapped_column(default=utcnow)
    made_by: Mapped[str] = mapped_column(String(100))  # system:reports, or the person who asked
    language: Mapped[str] = mapped_column(String(4))
    figures: Mapped[dict] = mapped_column(JSON)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    xlsx: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    xlsx_sha256: Mapped[str] = mapped_column(String(64))


MEDIA_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def report_file(session: Session, report_id: int, kind: str) -> tuple[bytes, str] | None:
    """A report's PDF or XLSX with its media type, checked against the hash stored when it was made."""
    if kind not in MEDIA_TYPES:
        return None
    report = session.get(CampaignReport, report_id)
    if report is None:
        return None
    data: bytes = getattr(report, kind)
    if hashlib.sha256(data).hexdigest() != getattr(report, f"{kind}_sha256"):
        raise ReportTamperedError(f"campaign report {report_id} {kind} does not match its SHA-256")
    return data, MEDIA_TYPES[kind]


class ReportTamperedError(RuntimeError):
    """A stored report file whose bytes no longer match the hash recorded when it was made."""
