"""Hazard events: list, read, evidence download, and the lifecycle actions, all scoped to the caller."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, Field

from service.actions.hazards import READERS, Action, HazardCommand, act_on_hazard, load_visible, read_evidence
from service.actions.report_views import CONTACT_READERS, reporter_contact
from service.actions.times import filter_instant
from service.actions.undo import undo
from service.actions.views import HazardDetail, HazardList, HazardSummary
from service.auth.keys import Principal
from service.deps import Cursor, PrincipalDep, RowId, RuntimeDep, SessionDep, require
from service.store.queries import HazardFilters, hazard_page, status_counts

router = APIRouter(prefix="/api/v1/hazards", tags=["hazards"])
Reader = Depends(require(*READERS))


@router.get("", response_model=HazardList)
def list_hazards(
    session: SessionDep,
    runtime: RuntimeDep,
    compound: str | None = None,
    camera: str | None = None,
    zone_type: str | None = None,
    category: str | None = None,
    status: str | None = None,
    source: str | None = Query(None, description="camera, self_inspection, inspection or resident"),
    kind: str | None = Query(None, description="kind in the division of duties, e.g. blocked_exit"),
    since: datetime | None = Query(None, description="opened at or after (ISO 8601; without an offset, site time)"),
    until: datetime | None = Query(None, description="opened before (ISO 8601)"),
    order: Literal["newest", "oldest"] = "newest",
    limit: int = Query(50, ge=1, le=500),
    cursor: Cursor = None,
    who: Principal = Reader,
) -> HazardList:
    """Keyset pagination on id: constant cost per page however many hazards there are."""
    zone = runtime.sites.current().zone
    since, until = filter_instant(since, zone, "since"), filter_instant(until, zone, "until")
    filters = HazardFilters(compound, camera, zone_type, category, status, since, until, source, kind)
    page = hazard_page(session, who, filters, order, limit, cursor)
    return HazardList(
        items=[HazardSummary.of(h) for h in page.items],
        next_cursor=page.next_cursor,
        counts=status_counts(session, who, filters),
    )


@router.get("/{hazard_id}", response_model=HazardDetail)
def get_hazard(hazard_id: RowId, session: SessionDep, who: Principal = Reader) -> HazardDetail:
    return HazardDetail.of(load_visible(session, who, hazard_id))


class ReporterContact(BaseModel):
    """A resident's report: who sent it and how to reach them (never in Open311 answers nor deliveries)."""

    hazard_id: int
    tracking_code: str
    first_name: str
    last_name: str
    email: str
    phone: str
    address_string: str
    lat: float | None
    long: float | None
    media_url: str = Field(description="as the resident gave it; never fetched by the service")


@router.get("/{hazard_id}/reporter", response_model=ReporterContact)
def get_reporter(
    hazard_id: RowId, session: SessionDep, who: Principal = Depends(require(*CONTACT_READERS))
) -> ReporterContact:
    """The reporter's contact: the compound's property company and police station, and admin; audited."""
    return ReporterContact(**reporter_contact(session, who, hazard_id))


@router.get(
    "/{hazard_id}/evidence/{kind}",
    response_class=Response,
    responses={200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "the file, as stored"}},
)
def get_evidence(
    hazard_id: RowId, kind: str, session: SessionDep, runtime: RuntimeDep, who: Principal = Reader
) -> Response:
    """The evidence file, verified against its stored SHA-256 (sent as X-Content-SHA256); never cached."""
    item, data = read_evidence(session, runtime.evidence, who, hazard_id, kind)
    return Response(
        data,
        media_type=item.media_type,
        headers={"X-Content-SHA256": item.sha256, "Cache-Control": "private, no-store"},
    )


@router.post("/{hazard_id}/undo", response_model=HazardDetail)
def undo_judgement(hazard_id: RowId, session: SessionDep, runtime: RuntimeDep, who: PrincipalDep) -> HazardDetail:
    """Take back your own latest confirm or dismissal within `CLEARWAY_UNDO_WINDOW_S`: 409 `undo_expired` after
    it, 409 `nothing_to_undo` without one, 403 for someone else's. Messages already sent are not recalled."""
    return undo(session, runtime.writer, who, hazard_id, runtime.settings.undo_window_s)


@router.post("/{hazard_id}/{action}", response_model=HazardDetail)
def act(
    hazard_id: RowId,
    action: Action,
    session: SessionDep,
    runtime: RuntimeDep,
    who: PrincipalDep,
    body: HazardCommand | None = None,
) -> HazardDetail:
    """Lifecycle actions by role; an illegal transition is 409, a role that may not act is 403. `accept` and
    `reject` (with a `reason`) moderate a resident's report waiting in pending_review; `dispute` (the answering
    unit: `not_an_obstruction`, or `please_review` with a note) flags an active hazard for the police's review."""
    return act_on_hazard(session, runtime.writer, runtime.scenes, who, hazard_id, action, body)
