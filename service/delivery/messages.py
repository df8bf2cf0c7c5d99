"""What a message says: the event snapshot stored in the outbox row, and its human renderings.

The snapshot is taken inside the transaction of the change, so a message describes the hazard as it was
when the event happened, not as it is when the dispatcher finally gets through.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config.clock import site_time
from service.config.site import Site
from service.store import models as m
from service.store.delivery_models import HazardEscalation

SCHEMA = "clearway.hazard-event/1"
TITLES = {
    "opened": "New hazard",
    "acknowledged": "Acknowledged",
    "rectified": "Rectified",
    "dismissed": "Dismissed",
    "cleared": "Cleared (verified by camera)",
    "confirmed": "Confirmed by police",
    "escalated": "ESCALATED",
    "disputed": "Disputed by the property company: please review",
    "undone": "Undone: the previous decision is taken back",
}
ZONE_LABELS = {
    "fire_lane": "Fire lane",
    "stairwell": "Stairwell",
    "evacuation_route": "Evacuation route",
    "safety_exit": "Safety exit",
    "perimeter_road": "Perimeter road",
    "elevator": "Lift",
}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def build_event(session: Session, hazard: m.HazardEvent, entry: m.HazardHistory, site: Site, public_url: str) -> dict:
    """The JSON every channel starts from (webhook and MQTT send it as is)."""
    base = public_url.rstrip("/")
    hazard_url = f"{base}/api/v1/hazards/{hazard.id}"
    camera = site.camera(hazard.camera_id) if hazard.camera_id else None
    compound = site.compound(hazard.compound_id)
    zone = camera.zone(hazard.zone_key) if camera else None
    evidence = session.scalars(select(m.Evidence).where(m.Evidence.hazard_id == hazard.id).order_by(m.Evidence.id))
    event = {
        "schema": SCHEMA,
        "event": entry.action,
        "event_id": entry.id,
        "occurred_at": _iso(entry.at),
        "actor": entry.actor,
        "note": entry.note,
        "params": entry.params,
        "captured_at": _iso(entry.captured_at),
        "time_zone": site.timezone,  # the site's clock: every time in the human renderings is in it
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "hazard": {
            "id": hazard.id,
            "url": hazard_url,
            "status": hazard.status,
            "severity": hazard.severity,
            "confirmed": hazard.confirmed,
            "kind": hazard.kind,
            "source": hazard.source,
            "category": hazard.category,
            "class_name": hazard.class_name,
            "confidence": round(hazard.confidence, 4),
            "clear_width_m": hazard.clear_width_m,
            "compound": {
                "id": hazard.compound_id,
                "name": compound.name if compound else "",
                "address": compound.address if compound else "",
            },
            "camera": {"id": hazard.camera_id, "name": camera.name if camera else ""},
            "zone": {"id": hazard.zone_key, "type": hazard.zone_type, "name": zone.name if zone else ""},
            "first_seen_at": _iso(hazard.first_seen_at),
            "opened_at": _iso(hazard.opened_at),
            "last_seen_at": _iso(hazard.last_seen_at),
            "closed_at": _iso(hazard.closed_at),
            "dismiss_reason": hazard.dismiss_reason,
            "location": hazard.location,
            "description": hazard.description,
            "responsible_agency_id": hazard.responsible_agency_id,
            "acknowledge_due_at": _iso(hazard.acknowledge_due_at),
            "rectify_due_at": _iso(hazard.rectify_due_at),
            "supervised": hazard.supervised,
        },
        "evidence": [
            {"kind": e.kind, "sha256": e.sha256, "media_type": e.media_type, "url": f"{hazard_url}/evidence/{e.kind}"}
            for e in evidence
        ],
        "escalation": None,
    }
    if entry.action == "escalated":
        latest = session.scalars(
            select(HazardEscalation)
            .where(HazardEscalation.hazard_id == hazard.id)
            .order_by(HazardEscalation.id.desc())
            .limit(1)
        ).first()
        if latest is not None:
            event["escalation"] = {
                "stage": latest.stage,
                "level": latest.level,
                "due_at": _iso(latest.due_at),
                "escalated_at": _iso(latest.escalated_at),
                "agencies": list(latest.agency_ids),
            }
    return event


def title(event: dict) -> str:
    hazard = event["hazard"]
    zone = ZONE_LABELS.get(hazard["zone"]["type"], hazard["zone"]["type"])
    name = hazard["compound"]["name"] or hazard["compound"]["id"]
    return f"[Clearway] {TITLES.get(event['event'], event['event'])}: {zone} blocked at {name} (#{hazard['id']})"


def facts(event: dict) -> list[tuple[str, str]]:
    """The key facts, in the order a duty officer reads them."""
    hazard = event["hazard"]
    zone = hazard["zone"]
    compound = hazard["compound"]
    _human = partial(_local, zone=ZoneInfo(event.get("time_zone") or "UTC"))
    rows = [
        ("Event", f"{TITLES.get(event['event'], event['event'])} ({event['event']})"),
        ("Compound", f"{compound['name']} {compound['address']}".strip() or compound["id"]),
        ("Camera", f"{hazard['camera']['name']} ({hazard['camera']['id']})".strip()),
        ("Zone", f"{zone['name'] or zone['id']} ({ZONE_LABELS.get(zone['type'], zone['type'])})"),
        ("Object", f"{hazard['class_name']} ({hazard['category']}), confidence {hazard['confidence']:.2f}"),
        ("Since", _human(hazard["first_seen_at"])),
        ("Status", f"{hazard['status']}, severity {hazard['severity']}{', confirmed' if hazard['confirmed'] else ''}"),
    ]
    if hazard.get("clear_width_m") is not None:
        rows.insert(5, ("Clear width", f"{hazard['clear_width_m']:.2f} m left for a fire engine"))
    if event.get("escalation"):
        esc = event["escalation"]
        rows.append(("Escalation", f"{esc['stage']} deadline {_human(esc['due_at'])} missed; step {esc['level']}"))
    if event.get("note"):
        rows.append(("Note", str(event["note"])))
    rows.append(("By", f"{event['actor']} at {_human(event['occurred_at'])}"))
    return rows


def _local(value: str | None, zone: ZoneInfo) -> str:
    """An instant of the event in the site's time, with its offset (as the pages show it)."""
    return site_time(datetime.fromisoformat(value), zone, seconds=True) if value else "-"


def _evidence_url(event: dict) -> str | None:
    return next((e["url"] for e in event["evidence"] if e["kind"] == "annotated"), None)


def markdown(event: dict, reference: str, limit_bytes: int = 4000) -> str:
    """Markdown for the WeCom and DingTalk robots (both render headings, bold and links)."""
    lines = [f"### {title(event)}", ""]
    lines += [f"**{label}:** {value}  " for label, value in facts(event)]
    links = [f"[Hazard]({event['hazard']['url']})"]
    if _evidence_url(event):
        links.append(f"[Evidence]({_evidence_url(event)})")
    lines += ["", " | ".join(links), "", f"ref {reference}"]
    text = "\n".join(lines)
    encoded = text.encode()
    return text if len(encoded) <= limit_bytes else encoded[: limit_bytes - 3].decode(errors="ignore") + "..."


def plain_text(event: dict, reference: str) -> str:
    """The e-mail body."""
    width = max(len(label) for label, _ in facts(event))
    lines = [title(event), ""]
    lines += [f"{label + ':':<{width + 1}} {value}" for label, value in facts(event)]
    lines += ["", f"Hazard:   {event['hazard']['url']}"]
    if _evidence_url(event):
        lines.append(f"Evidence: {_evidence_url(event)}")
    lines += ["", f"Reference (idempotency key): {reference}"]
    return "\n".join(lines) + "\n"
