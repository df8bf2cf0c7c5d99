"""The ledger (台账): every hazard of every source as one table, scoped and filtered like the review queue, as
rows for XLSX and CSV.

Why here: the county asks for one ledger of every hazard with its deadline, measures, proof and closing, from
whatever source. The rows are computed once from the store; the spreadsheet and the CSV only lay them out.
Times are in the site's time zone (people read them), dates as real dates in the spreadsheet.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from service.config.site import Site
from service.store import models as m
from service.store.queries import HazardFilters
from service.store.scope import Viewer, scope_hazards

Label = Callable[[str, str], str]
"""(catalogue prefix, code) -> what a person reads, e.g. ("kind", "blocked_exit") -> "安全出口堵塞"."""

COLUMNS = (
    "number",
    "compound",
    "location",
    "kind",
    "source",
    "found_at",
    "responsible",
    "deadline",
    "measures",
    "status",
    "rectified_at",
    "proof",
    "closed_at",
    "grade",
    "supervised",
)
TIMES = ("found_at", "deadline", "rectified_at", "closed_at")
BATCH = 500


@dataclass(frozen=True)
class LedgerRow:
    number: int
    compound: str
    location: str
    kind: str
    source: str
    found_at: datetime
    responsible: str
    deadline: datetime | None
    measures: str
    status: str
    rectified_at: datetime | None
    proof: str  # "after_photo", "camera_verified" or ""
    closed_at: datetime | None
    grade: str  # minor | major
    supervised: bool


def ledger_rows(session: Session, who: Viewer, filters: HazardFilters, site: Site) -> Iterator[LedgerRow]:
    """The caller's hazards matching `filters`, oldest first (a ledger reads in the order things were found)."""
    query = filters.apply(scope_hazards(select(m.HazardEvent), session, who))
    query = query.options(selectinload(m.HazardEvent.history), selectinload(m.HazardEvent.evidence))
    last = 0
    while True:
        batch = list(session.scalars(query.where(m.HazardEvent.id > last).order_by(m.HazardEvent.id).limit(BATCH)))
        for hazard in batch:
            yield _row(hazard, site)
        if len(batch) < BATCH:
            return
        last = batch[-1].id


def _row(h: m.HazardEvent, site: Site) -> LedgerRow:
    compound = site.compound(h.compound_id)
    camera = site.camera(h.camera_id) if h.camera_id else None
    zone = camera.zone(h.zone_key) if camera else None
    where = " / ".join(p for p in (camera.name or camera.id, zone.name or zone.id) if p) if camera and zone else ""
    rectified = next((e for e in reversed(h.history) if e.action == "rectified"), None)
    notes = [e.note for e in h.history if e.action in ("rectified", "note") and e.note]
    agency = site.agency(h.responsible_agency_id) if h.responsible_agency_id else None
    has_photo = any(e.kind.startswith("after-") for e in h.evidence)
    return LedgerRow(
        number=h.id,
        compound=compound.name if compound else h.compound_id,
        location="; ".join(p for p in (h.location, where) if p),
        kind=h.kind,
        source=h.source,
        found_at=h.opened_at,
        responsible=agency.name if agency else (h.responsible_agency_id or ""),
        deadline=h.rectify_due_at,
        measures="\n".join(notes),
        status=h.status,
        rectified_at=rectified.at if rectified else None,
        proof="after_photo" if has_photo else "camera_verified" if h.cleared_frame_id else "",
        closed_at=h.closed_at,
        grade=h.severity,
        supervised=h.supervised,
    )


def _cells(row: LedgerRow, zone: ZoneInfo, label: Label, as_text: bool) -> list[object]:
    """One row's cells: local times (naive for the spreadsheet, text for CSV) and codes as people read them."""
    out: list[object] = []
    for column in COLUMNS:
        value = getattr(row, column)
        if column in TIMES:
            local = value.astimezone(zone).replace(tzinfo=None) if value is not None else None
            value = (local.strftime("%Y-%m-%d %H:%M") if local else "") if as_text else local
        elif column in ("kind", "source", "status"):
            value = label(column, value)
        elif column == "grade":
            value = label("severity", value)
        elif column == "proof":
            value = label("proof", value) if value else ""
        elif column == "supervised":
            value = label("supervised", "yes") if value else ""
        out.append(value)
    return out


def ledger_xlsx(rows: Iterator[LedgerRow], headers: dict[str, str], zone: ZoneInfo, label: Label) -> bytes:
    """A real spreadsheet: typed columns, dates as dates, a frozen header row and filters on every column."""
    book = Workbook()
    sheet = book.active
    sheet.title = headers.get("sheet", "Ledger")[:31]
    sheet.append([headers[c] for c in COLUMNS])
    count = 0
    for row in rows:
        sheet.append(_cells(row, zone, label, as_text=False))
        count += 1
    widths = {"number": 8, "location": 36, "measures": 40, "compound": 20, "responsible": 22}
    for index, column in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = widths.get(column, 18)
        if column in TIMES:
            for cell in sheet[letter][1:]:
                cell.number_format = "yyyy-mm-dd hh:mm"
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{count + 1}"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ledger_csv(rows: Iterator[LedgerRow], headers: dict[str, str], zone: ZoneInfo, label: Label) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs open the Chinese text as it is."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([headers[c] for c in COLUMNS])
    for row in rows:
        writer.writerow(_cells(row, zone, label, as_text=True))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
