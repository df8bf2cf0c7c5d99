"""The ledger (台账) as a file: every hazard the caller may see, filtered like the hazard list, as XLSX or CSV."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response

from service.actions.hazards import READERS
from service.actions.times import filter_instant
from service.auth.keys import Principal
from service.deps import RuntimeDep, SessionDep, require
from service.reports.ledger import COLUMNS, ledger_csv, ledger_rows, ledger_xlsx
from service.store.queries import HazardFilters

router = APIRouter(prefix="/api/v1", tags=["ledger"])
MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}
HEADERS = {c: c for c in COLUMNS} | {"sheet": "ledger"}


@router.get(
    "/ledger.{fmt}",
    response_class=Response,
    responses={200: {"content": {MEDIA["xlsx"]: {}, "text/csv": {}}, "description": "the ledger file"}},
)
def ledger(
    fmt: Literal["xlsx", "csv"],
    session: SessionDep,
    runtime: RuntimeDep,
    compound: str | None = None,
    camera: str | None = None,
    zone_type: str | None = None,
    category: str | None = None,
    status: str | None = None,
    source: str | None = None,
    kind: str | None = None,
    since: datetime | None = Query(None, description="found at or after (ISO 8601)"),
    until: datetime | None = Query(None, description="found before (ISO 8601)"),
    who: Principal = Depends(require(*READERS)),
) -> Response:
    """Machine-readable codes (kind, source, status) and the column names as headers; times in the site's zone."""
    site = runtime.sites.current()
    since, until = filter_instant(since, site.zone, "since"), filter_instant(until, site.zone, "until")
    filters = HazardFilters(compound, camera, zone_type, category, status, since, until, source, kind)
    rows = ledger_rows(session, who, filters, site)
    write = ledger_xlsx if fmt == "xlsx" else ledger_csv
    data = write(rows, HEADERS, site.zone, lambda _prefix, code: code)
    disposition = f'attachment; filename="ledger.{fmt}"'
    return Response(data, media_type=MEDIA[fmt], headers={"Content-Disposition": disposition})
