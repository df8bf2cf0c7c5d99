"""What a cooldown digest says: its event (schema clearway.digest/1) and its human renderings.

The event is made with the digest, in the site's language and clock, so every channel says the same; the
channels only lay out its `text` (title, summary, one line per hazard, facts), as they do a report's.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from service.config.clock import site_time
from service.config.site import Site
from service.locale import Translator, translator
from service.store import models as m
from service.store.delivery_models import DeliveryDigest

DIGEST_SCHEMA = "clearway.digest/1"


def is_digest(event: dict) -> bool:
    return event.get("schema") == DIGEST_SCHEMA


def local_time(value: datetime | None, zone: ZoneInfo) -> str:
    """Site time with its UTC offset, as the pages show it (`2026-12-02 10:15 +08:00`)."""
    return site_time(value, zone, empty="-")


def duration(seconds: float, t: Translator) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return t("duration.s", s=int(seconds))
    if minutes < 60:
        return t("duration.m", m=minutes)
    hours, minutes = divmod(minutes, 60)
    return t("duration.hm", h=hours, m=minutes) if hours < 48 else t("duration.dh", d=hours // 24, h=hours % 24)


def build_digest_event(
    digest: DeliveryDigest, hazards: list[m.HazardEvent], held: dict[int, list[str]], site: Site, public_url: str
) -> dict:
    """The JSON every channel starts from: the window, each held hazard as it is now, and the text to show."""
    lang = site.language
    t, zone_info = translator(lang), site.zone
    base = public_url.rstrip("/")
    camera = site.camera(digest.camera_id)
    zone = camera.zone(digest.zone_key) if camera else None
    compound = site.compound(camera.compound) if camera else None
    zone_type = zone.type.value if zone else ""
    items = [
        {
            "id": h.id,
            "url": f"{base}/api/v1/hazards/{h.id}",
            "page": f"{base}/hazards/{h.id}",
            "opened_at": h.opened_at.isoformat(),
            "closed_at": h.closed_at.isoformat() if h.closed_at else None,
            "status": h.status,
            "severity": h.severity,
            "category": h.category,
            "class_name": h.class_name,
            "events_held": held.get(h.id, []),
        }
        for h in hazards
    ]
    zone_name = (zone.name if zone and zone.name else digest.zone_key) + f" ({t(f'zone.{zone_type}')})"
    compound_name = compound.name if compound else ""
    cooldown_s = (digest.window_end - digest.window_start).total_seconds()
    lines = [
        t(
            "digest.hazard_line",
            id=h["id"],
            time=local_time(datetime.fromisoformat(h["opened_at"]), zone_info),
            object=f"{t('category.' + h['category'])} ({h['class_name']})",
            status=t(f"status.{h['status']}"),
        )
        for h in items
    ]
    return {
        "schema": DIGEST_SCHEMA,
        "event": "digest",
        "digest_id": digest.id,
        "occurred_at": digest.made_at.isoformat(),
        "time_zone": site.timezone,
        "language": lang,
        "compound": {"id": compound.id if compound else "", "name": compound_name},
        "camera": {"id": digest.camera_id, "name": camera.name if camera else ""},
        "zone": {"id": digest.zone_key, "type": zone_type, "name": zone.name if zone else ""},
        "window": {
            "after_hazard_id": digest.after_hazard_id,
            "started_at": digest.window_start.isoformat(),
            "ended_at": digest.window_end.isoformat(),
            "cooldown_s": cooldown_s,
        },
        "hazards": items,
        "text": {
            "title": t("digest.title", zone=zone_name, compound=compound_name, n=len(items)),
            "summary": t(
                "digest.summary",
                after=digest.after_hazard_id or "-",
                closed=local_time(digest.window_start, zone_info),
                cooldown=duration(cooldown_s, t),
                n=len(items),
            ),
            "lines": lines,
            "facts": [
                (t("digest.fact.camera"), f"{camera.name if camera else ''} ({digest.camera_id})".strip()),
                (t("digest.fact.zone"), zone_name),
                (
                    t("digest.fact.window"),
                    f"{local_time(digest.window_start, zone_info)} – {local_time(digest.window_end, zone_info)}",
                ),
            ],
            "links": [(t("digest.link", id=h["id"]), h["page"]) for h in items],
        },
    }


def digest_title(event: dict) -> str:
    return f"[Clearway] {event['text']['title']}"


def digest_markdown(event: dict, reference: str, limit_bytes: int = 4000) -> str:
    """Markdown for the WeCom and DingTalk robots: the summary, one line per hazard with its link."""
    text = event["text"]
    lines = [f"### {digest_title(event)}", "", text["summary"], ""]
    lines += [f"- [{line}]({url})" for line, (_, url) in zip(text["lines"], text["links"], strict=True)]
    lines += [""] + [f"**{label}:** {value}  " for label, value in text["facts"]]
    lines += ["", f"ref {reference}"]
    out = "\n".join(lines)
    encoded = out.encode()
    return out if len(encoded) <= limit_bytes else encoded[: limit_bytes - 3].decode(errors="ignore") + "..."


def digest_text(event: dict, reference: str) -> str:
    """The e-mail body."""
    text = event["text"]
    lines = [digest_title(event), "", text["summary"], ""]
    lines += [f"- {line}\n  {url}" for line, (_, url) in zip(text["lines"], text["links"], strict=True)]
    lines += [""] + [f"{label}: {value}" for label, value in text["facts"]]
    lines += ["", f"Reference (idempotency key): {reference}"]
    return "\n".join(lines) + "\n"
