"""The review queue: filters, counts per status, keyset pages (the API's own query, service/store/queries)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from service.config.site import ZoneType
from service.deps import Cursor, RuntimeDep, SessionDep
from service.reports.ledger import COLUMNS, ledger_csv, ledger_rows, ledger_xlsx
from service.store.db import utcnow
from service.store.lifecycle import ACTIVE
from service.store.queries import hazard_page, neighbour, previous_page, status_counts
from service.store.scope import visible_compound_ids
from service.web.counts import cached_counts
from service.web.i18n import catalogue, language_of
from service.web.pages import PersonDep, WebDep, csrf_guard, render
from service.web.views import (
    ATTENTION,
    KINDS,
    SEVERITIES,
    SOURCES,
    STATUSES,
    deadline,
    escalated_to,
    names,
    open_for_s,
    queue_state,
    thumbnails,
)

router = APIRouter(prefix="/web", include_in_schema=False, dependencies=[Depends(csrf_guard)])
CATEGORIES = ("vehicle", "two_wheeler", "clutter")
LEDGER_MEDIA = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


@router.get("/hazards", response_class=HTMLResponse)
def queue(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    who: PersonDep,
    web: WebDep,
    cursor: Cursor = None,
    before: Cursor = None,
) -> HTMLResponse:
    site = runtime.sites.current()
    now = utcnow()
    state = queue_state(dict(request.query_params), site.zone, now)
    visible = visible_compound_ids(session, who)
    if before is not None:
        items = previous_page(session, who, state.filters, state.order, web.page_size, before)
    else:
        items = hazard_page(session, who, state.filters, state.order, web.page_size, cursor).items
    newer = bool(items) and neighbour(session, who, state.filters, state.order, items[0].id, -1) is not None
    older = bool(items) and neighbour(session, who, state.filters, state.order, items[-1].id, 1) is not None
    scope = (who.role, who.agency_id, state.filters.without_status())
    counts = cached_counts(session, scope, lambda: status_counts(session, who, state.filters.without_status()))
    thumbs = thumbnails(session, [h.id for h in items])
    escalations = escalated_to(session, [h.id for h in items])
    compounds = [c for c in site.compounds if visible is None or c.id in visible]
    cameras = [c for c in site.cameras if visible is None or c.compound in visible]
    rows = [
        {
            "h": h,
            "open_for": open_for_s(h, now),
            "thumb": h.id in thumbs,
            "deadline": deadline(h, now),
            "escalation": escalations.get(h.id),
        }
        for h in items
    ]
    return render(
        request,
        "queue.html",
        nav="queue",
        state=state,
        rows=rows,
        counts=counts,
        active_count=sum(counts.get(s, 0) for s in ACTIVE),
        all_count=sum(counts.values()),
        statuses=STATUSES,
        compounds=compounds,
        cameras=cameras,
        zone_types=[z.value for z in ZoneType],
        categories=CATEGORIES,
        kinds=KINDS,
        sources=SOURCES,
        severities=SEVERITIES,
        attention=ATTENTION,
        names=names(site),
        newer_link=f"?{state.query(before=items[0].id)}" if newer else None,
        older_link=f"?{state.query(cursor=items[-1].id)}" if older else None,
        first_link=f"?{state.query()}" if (cursor or before) else None,
    )


@router.get("/ledger.{fmt}")
def ledger_file(
    fmt: Literal["xlsx", "csv"], request: Request, runtime: RuntimeDep, session: SessionDep, who: PersonDep, web: WebDep
) -> Response:
    """The ledger (台账) of the queue as filtered, in the reader's language, as XLSX or CSV."""
    site = runtime.sites.current()
    state = queue_state(dict(request.query_params), site.zone)
    words = catalogue(language_of(request, web))
    headers = {c: words[f"ledger.{c}"] for c in COLUMNS} | {"sheet": words["ledger.sheet"]}
    rows = ledger_rows(session, who, state.filters, site)
    label = lambda prefix, code: words.get(f"{prefix}.{code}", code)  # noqa: E731
    data = (ledger_xlsx if fmt == "xlsx" else ledger_csv)(rows, headers, site.zone, label)
    media = LEDGER_MEDIA[fmt]
    return Response(data, media_type=media, headers={"Content-Disposition": f'attachment; filename="ledger.{fmt}"'})
