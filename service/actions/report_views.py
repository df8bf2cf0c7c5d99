"""What the public may read of residents' reports (Open311 fields, never contact data nor media), and the
reporter's contact for the compound's property company, police station and admin only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.actions.errors import Forbidden, NotFound
from service.actions.hazards import load_visible
from service.actions.reports import REPORTABLE, normalise_code
from service.auth.audit import audit
from service.auth.keys import Principal
from service.config.duties import HazardKind
from service.config.site import Site
from service.store import models as m
from service.store.lifecycle import ACTIVE, CLOSED, HazardStatus
from service.store.report_models import ResidentReport

CONTACT_READERS = ("property", "police", "admin")
K = HazardKind
SERVICES: dict[HazardKind, tuple[str, str, str]] = {  # zh name, en name, group
    K.vehicle_in_fire_lane: ("机动车占用消防车道", "Vehicle parked in a fire lane", "fire_lane"),
    K.lane_obstruction: ("消防车道占道堆物", "Objects piled in a fire lane", "fire_lane"),
    K.perimeter_parking: ("小区周边道路违停堵塞消防通道", "Parking blocking fire access on the road", "fire_lane"),
    K.illegal_structure: ("违法建筑占用消防车道/通道", "Illegal structure on a fire lane or passage", "fire_lane"),
    K.blocked_exit: ("锁闭、封堵、占用安全出口或疏散通道", "Safety exit or escape route locked or blocked", "exits"),
    K.stairwell_storage: ("楼道堆放物品", "Things stored in a stairwell", "exits"),
    K.ebike_indoor: ("电动车楼道/电梯内停放或充电", "E-bike parked or charged indoors", "exits"),
    K.hydrant_blocked: ("遮挡消火栓或消防器材", "Hydrant or fire equipment blocked", "equipment"),
    K.missing_markings: ("消防车道、车位或标识缺失", "Fire-lane markings or signs missing", "equipment"),
    K.charging_area_missing: ("未设非机动车停放充电场地", "No e-bike parking or charging area", "management"),
    K.garage_misuse: ("擅自改变地下车库使用性质", "Underground garage used for something else", "management"),
    K.management_failure: ("物业履行消防安全职责不到位", "Property company not doing its fire duties", "management"),
}
NOTES = {  # status -> (zh, en) status_notes
    HazardStatus.pending_review: ("已收到，等待审核", "received, waiting for review"),
    HazardStatus.open: ("已受理，已转交责任单位", "accepted and passed to the responsible unit"),
    HazardStatus.notified: ("已受理，已通知责任单位", "accepted; the responsible unit has been notified"),
    HazardStatus.acknowledged: ("责任单位已知悉，正在处理", "the responsible unit is dealing with it"),
    HazardStatus.rectified: ("已整改", "rectified"),
    HazardStatus.dismissed: ("经核查不属于隐患", "checked: not a hazard"),
    HazardStatus.cleared: ("隐患已消除", "the hazard has gone"),
    HazardStatus.rejected: ("未受理", "not accepted"),
}
HIDDEN = (HazardStatus.pending_review.value, HazardStatus.rejected.value)  # never in the public list


def service_list(lang: str) -> list[dict]:
    """The Open311 service list: one service per reportable kind."""
    return [
        {
            "service_code": kind.value,
            "service_name": SERVICES[kind][0 if lang == "zh" else 1],
            "description": f"{SERVICES[kind][0]} / {SERVICES[kind][1]}",
            "metadata": False,
            "type": "realtime",
            "keywords": ",".join((kind.value.replace("_", " "), SERVICES[kind][2].replace("_", " "), "fire safety")),
            "group": SERVICES[kind][2],
        }
        for kind in REPORTABLE
    ]


def open_or_closed(status: str) -> str:
    return "closed" if HazardStatus(status) in CLOSED else "open"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def public_request(report: ResidentReport, site: Site, lang: str) -> dict:
    """One report as Open311 shows it: no contact, no media, no staff notes."""
    hazard = report.hazard
    status = HazardStatus(hazard.status)
    notes = NOTES[status][0 if lang == "zh" else 1]
    agency = site.agency(hazard.responsible_agency_id) if hazard.responsible_agency_id else None
    accepted = status not in (HazardStatus.pending_review, HazardStatus.rejected)
    names = SERVICES.get(HazardKind(hazard.kind), (hazard.kind, hazard.kind, ""))
    return {
        "service_request_id": report.tracking_code,
        "status": open_or_closed(hazard.status),
        "status_notes": notes,
        "service_name": names[0 if lang == "zh" else 1],
        "service_code": hazard.kind,
        "description": hazard.description,
        "agency_responsible": (agency.name if agency else "") if accepted else "",
        "service_notice": "",
        "requested_datetime": _iso(hazard.opened_at),
        "updated_datetime": _iso(hazard.history[-1].at if hazard.history else hazard.opened_at),
        "expected_datetime": _iso(hazard.rectify_due_at) if accepted and status in ACTIVE else None,
        "address": report.address_string or hazard.location,
        "address_id": None,
        "zipcode": None,
        "lat": report.lat,
        "long": report.long,
        "media_url": None,
    }


def find_report(session: Session, code: str) -> ResidentReport:
    """The report with this tracking code; NotFound otherwise."""
    query = select(ResidentReport).where(ResidentReport.tracking_code == normalise_code(code))
    report = session.scalars(query).first()
    if report is None:
        raise NotFound("no service request with this id")
    return report


@dataclass(frozen=True)
class PublicFilters:
    service_codes: tuple[str, ...] = ()
    status: str | None = None  # open or closed
    start: datetime | None = None
    end: datetime | None = None
    codes: tuple[str, ...] = ()  # service_request_id list


def public_reports(session: Session, filters: PublicFilters, limit: int) -> list[ResidentReport]:
    """Accepted reports only (never pending or rejected), newest first, at most `limit`."""
    query = (
        select(ResidentReport)
        .join(m.HazardEvent, m.HazardEvent.id == ResidentReport.hazard_id)
        .where(m.HazardEvent.status.not_in(HIDDEN))
    )
    if filters.codes:
        query = query.where(ResidentReport.tracking_code.in_([normalise_code(c) for c in filters.codes]))
    if filters.service_codes:
        query = query.where(m.HazardEvent.kind.in_(filters.service_codes))
    if filters.status == "open":
        query = query.where(m.HazardEvent.status.in_([s.value for s in ACTIVE]))
    elif filters.status == "closed":
        query = query.where(m.HazardEvent.status.in_([s.value for s in CLOSED]))
    if filters.start is not None:
        query = query.where(m.HazardEvent.opened_at >= filters.start)
    if filters.end is not None:
        query = query.where(m.HazardEvent.opened_at <= filters.end)
    return list(session.scalars(query.order_by(m.HazardEvent.opened_at.desc(), m.HazardEvent.id.desc()).limit(limit)))


def reporter_contact(session: Session, who: Principal, hazard_id: int) -> dict:
    """The reporter's contact, for the compound's property company, police station or admin; audited."""
    if who.role not in CONTACT_READERS:
        raise Forbidden(f"role {who.role!r} may not read a reporter's contact")
    hazard = load_visible(session, who, hazard_id)
    report = session.get(ResidentReport, hazard.id)
    if report is None:
        raise NotFound(f"hazard {hazard_id} is not a resident's report")
    audit(session, who, "report.contact_view", "hazard", hazard.id)
    return {
        "hazard_id": hazard.id,
        "tracking_code": report.tracking_code,
        "first_name": report.first_name,
        "last_name": report.last_name,
        "email": report.email,
        "phone": report.phone,
        "address_string": report.address_string,
        "lat": report.lat,
        "long": report.long,
        "media_url": report.media_url,
    }
