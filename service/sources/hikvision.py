"""Hikvision ISAPI alarm-server notifications ("HTTP listening" / alarm host), parsed into one plain record.

What devices send (cameras and NVRs, many firmware generations):
- a bare `EventNotificationAlert` as application/xml or text/xml (heartbeats and events without pictures);
- multipart/form-data or multipart/mixed whose first part is that XML (or JSON on newer firmware) and whose
  following parts are JPEG pictures; part names vary by event type and firmware, so pictures are told by their
  content type or their JPEG magic bytes, never by name.
- two XML dialects: cameras `xmlns="http://www.hikvision.com/ver20/XMLSchema" version="2.0"`, NVRs
  `xmlns="urn:psialliance-org" version="1.0"` with an `Extensions` block (serialNumber, dynChannelID). Elements
  are read by local name, whatever the namespace.

XML goes through defusedxml: entities, DTDs and external references are refused (an "XML bomb" is a 400).
Multipart is split with the standard library's e-mail parser (MIME is MIME). Nothing here touches the store.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from dataclasses import dataclass, field
from datetime import datetime
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeXML
from defusedxml import DefusedXmlException

JPEG_MAGIC = b"\xff\xd8\xff"
MAX_PICTURES = 8
# Events that say the camera cannot see: a covered, moved or blind fire-lane camera is a hazard of its own.
BLIND_EVENTS = frozenset({"videoloss", "shelteralarm", "tamperdetection", "scenechangedetection", "videoblind"})


class AlertRejectedError(ValueError):
    """A notification that cannot be read; `reason` is the counted code (bad_xml, bad_multipart, ...)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Target:
    """The device's own detection: what it thinks it saw and where (normalised 0..1 box when it says)."""

    kind: str  # human | vehicle | "" (many events do not say)
    box: tuple[float, float, float, float] | None = None
    region: str = ""


@dataclass(frozen=True)
class Alert:
    event_type: str  # lower case: fielddetection, linedetection, videoloss, ...
    active: bool  # eventState active (an event) or inactive (a heartbeat, an event ending)
    channel: int
    mac: str | None
    serial: str | None
    address: str | None
    date_time: str | None  # as sent; the route turns it into an instant in the site's zone
    description: str = ""
    targets: tuple[Target, ...] = ()
    pictures: tuple[bytes, ...] = field(default=(), repr=False)

    @property
    def blind(self) -> bool:
        return self.active and self.event_type in BLIND_EVENTS

    def hint(self) -> dict:
        """What is stored with the frame and shown on the hazard, never trusted alone."""
        return {
            "vendor": "hikvision",
            "event": self.event_type,
            "description": self.description,
            "targets": [{"kind": t.kind, "box": t.box, "region": t.region} for t in self.targets],
        }


def parse_notification(body: bytes, content_type: str) -> Alert:
    """Read one notification as the device sent it; AlertRejectedError (with its reason) if it cannot be read."""
    media = content_type.split(";")[0].strip().lower()
    if media.startswith("multipart/"):
        document, pictures = _split_multipart(body, content_type)
    elif media in ("application/xml", "text/xml", "application/json", "text/plain", ""):
        document, pictures = body, []
    else:
        raise AlertRejectedError("unsupported_media_type", f"content type {media!r} is not an ISAPI notification")
    return _alert(document, tuple(pictures[:MAX_PICTURES]))


def _split_multipart(body: bytes, content_type: str) -> tuple[bytes, list[bytes]]:
    if "boundary=" not in content_type.lower():
        raise AlertRejectedError("bad_multipart", "multipart body without a boundary")
    message = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(
        f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode("latin-1") + body
    )
    if not message.is_multipart():
        raise AlertRejectedError("bad_multipart", "multipart body could not be split into parts")
    document: bytes | None = None
    pictures: list[bytes] = []
    for part in message.get_payload():
        payload = part.get_payload(decode=True) or b""
        kind = (part.get_content_type() or "").lower()
        if payload.startswith(JPEG_MAGIC) or kind == "image/jpeg":
            if payload.startswith(JPEG_MAGIC):
                pictures.append(payload)
        elif document is None and payload.strip()[:1] in (b"<", b"{"):
            document = payload
    if document is None:
        raise AlertRejectedError("bad_multipart", "no EventNotificationAlert (XML or JSON) part in the body")
    return document, pictures


def _alert(document: bytes, pictures: tuple[bytes, ...]) -> Alert:
    text = document.strip()
    if text.startswith(b"{"):
        return _from_json(text, pictures)
    try:
        root = SafeXML.fromstring(text, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise AlertRejectedError(
            "xml_forbidden", f"XML with DTDs or entities is refused: {type(exc).__name__}"
        ) from None
    except SafeXML.ParseError as exc:
        raise AlertRejectedError("bad_xml", f"notification is not well-formed XML: {exc}") from None
    if _local(root.tag) != "EventNotificationAlert":
        raise AlertRejectedError("bad_xml", f"expected EventNotificationAlert, got {_local(root.tag)}")
    values = {_local(e.tag): (e.text or "").strip() for e in root.iter() if len(e) == 0}
    return Alert(
        event_type=values.get("eventType", "").lower(),
        active=values.get("eventState", "active").lower() == "active",
        channel=_channel(values.get("dynChannelID") or values.get("channelID") or values.get("dynVideoInputChannelID")),
        mac=values.get("macAddress") or None,
        serial=values.get("serialNumber") or None,
        address=values.get("ipAddress") or values.get("ipv6Address") or None,
        date_time=values.get("dateTime") or None,
        description=values.get("eventDescription", ""),
        targets=tuple(_targets(root)),
        pictures=pictures,
    )


def _from_json(text: bytes, pictures: tuple[bytes, ...]) -> Alert:
    """Newer firmware: the same fields as JSON (camelCase keys), sometimes nested under a top-level key."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise AlertRejectedError("bad_json", "notification is not valid JSON") from None
    if not isinstance(data, dict):
        raise AlertRejectedError("bad_json", "notification JSON is not an object")
    flat = dict(data)
    for value in data.values():
        if isinstance(value, dict):
            flat = value | flat
    return Alert(
        event_type=str(flat.get("eventType", "")).lower(),
        active=str(flat.get("eventState", "active")).lower() == "active",
        channel=_channel(str(flat.get("channelID", flat.get("dynChannelID", "1")))),
        mac=_text(flat.get("macAddress")),
        serial=_text(flat.get("serialNumber")),
        address=_text(flat.get("ipAddress")),
        date_time=_text(flat.get("dateTime")),
        description=str(flat.get("eventDescription", ""))[:300],
        pictures=pictures,
    )


def _targets(root: Element) -> list[Target]:
    """Each DetectionRegionEntry with its TargetRect (normalised to 1000 by the device) and targetType."""
    out = []
    for entry in (e for e in root.iter() if _local(e.tag) == "DetectionRegionEntry"):
        leaves = {_local(e.tag): (e.text or "").strip() for e in entry.iter() if len(e) == 0}
        rect = next((e for e in entry.iter() if _local(e.tag) == "TargetRect"), None)
        box = None
        if rect is not None:
            r = {_local(e.tag).lower(): _number(e.text) for e in rect}
            if None not in (r.get("x"), r.get("y"), r.get("width"), r.get("height")):
                x, y, w, h = (r["x"] / 1000, r["y"] / 1000, r["width"] / 1000, r["height"] / 1000)
                box = (round(x, 4), round(y, 4), round(x + w, 4), round(y + h, 4))
        out.append(
            Target(leaves.get("detectionTarget") or leaves.get("targetType", ""), box, leaves.get("regionID", ""))
        )
    return out[:16]


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _channel(value: str | None) -> int:
    try:
        channel = int(value or "1")
    except ValueError:
        raise AlertRejectedError("bad_channel", f"channelID {value!r} is not a number") from None
    if not 1 <= channel <= 512:
        raise AlertRejectedError("bad_channel", f"channelID {channel} is out of range")
    return channel


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _text(value: object) -> str | None:
    return str(value)[:100] if value not in (None, "") else None


def parse_device_time(value: str | None, zone: object) -> datetime | None:
    """ISO 8601 as devices write it; without an offset it is the site's local time. None if unreadable."""
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=zone)  # type: ignore[arg-type]
