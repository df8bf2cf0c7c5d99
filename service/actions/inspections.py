"""Inspections on site: a person photographs a hazard, the model proposes what it is, the person records it.

A property company's own round is a `self_inspection` (自查); police, the fire brigade, the county and admins
record an `inspection` (督查). Either way the hazard goes through the one `HazardWriter` like a camera's: routed
by its kind's duty, with deadlines, evidence, history, delivery. "Fixed on the spot" records the hazard and, in
the same transaction, its after photo and the rectification, so it stays in the ledger.

Everything is checked before anything is written: a refused inspection leaves no row and no file.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from service.actions.errors import Forbidden, Invalid, NotFound, TooLarge, Unavailable
from service.actions.views import HazardDetail
from service.auth.audit import audit
from service.auth.keys import Principal
from service.config.duties import HazardKind, HazardSource, ZoneType
from service.config.site import Site
from service.hazards.routing import assign
from service.locale import translator
from service.store import models as m
from service.store.db import utcnow
from service.store.hazard_writer import HazardWriter, NewHazard
from service.store.lifecycle import HazardStatus
from service.store.scope import can_see_compound
from service.vision.decoding import ImageRejectedError, decode_image
from service.vision.evidence import InspectionFacts, inspection_pictures
from service.vision.labels import evidence_language, palette_key
from service.vision.pool import InferencePool, QueueFullError

INSPECTORS = ("property", "township", "police", "fire", "bureau", "county", "admin")
INSPECTION_KINDS = tuple(k for k in HazardKind if k != HazardKind.camera_offline)
MAX_PHOTOS = 6
MAX_BOXES = 20
MAX_LOCATION = 300
MAX_DESCRIPTION = 2000
INFERENCE_TIMEOUT_S = 30.0
KIND_CATEGORY = {
    HazardKind.vehicle_in_fire_lane: "vehicle",
    HazardKind.perimeter_parking: "vehicle",
    HazardKind.ebike_indoor: "two_wheeler",
    HazardKind.lane_obstruction: "clutter",
    HazardKind.stairwell_storage: "clutter",
    HazardKind.blocked_exit: "clutter",
    HazardKind.hydrant_blocked: "clutter",
}
"""The detector category a kind is about, where it is about an object (other kinds record none)."""
INDOOR = (ZoneType.stairwell.value, ZoneType.evacuation_route.value, ZoneType.safety_exit.value)


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int


@dataclass(frozen=True)
class InspectionForm:
    """What the person on site says: the kind, where, and (optionally) the camera/zone it is in view of."""

    kind: str
    compound: str
    location: str
    description: str = ""
    camera: str | None = None
    zone: str | None = None
    boxes: Sequence[Sequence[float]] = field(default_factory=tuple)
    fixed_on_the_spot: bool = False


class ProposedBox(BaseModel):
    class_name: str
    category: str = Field(description="vehicle, two_wheeler or clutter")
    confidence: float
    box: list[float] = Field(description="x1, y1, x2, y2 in pixels of the photo")


class Proposal(BaseModel):
    """What the model makes of a photo: a kind to start from (null when it found nothing) and its boxes."""

    kind: HazardKind | None = Field(description="proposed kind; null when the model found nothing relevant")
    boxes: list[ProposedBox]
    width: int
    height: int
    inference_ms: float


TRUE = ("1", "true", "on", "yes")


def form_of(fields: dict[str, str]) -> InspectionForm:
    """An InspectionForm from submitted text fields (API multipart or page form); `boxes` is a JSON list."""
    text = fields.get("boxes", "").strip()
    try:
        boxes = json.loads(text) if text else []
    except ValueError:
        raise Invalid("boxes is not JSON: send [[x1, y1, x2, y2], ...]", reason="bad_boxes") from None
    if not isinstance(boxes, list) or not all(isinstance(b, list) and len(b) == 4 for b in boxes):
        raise Invalid("boxes is a JSON list of [x1, y1, x2, y2]", reason="bad_boxes")
    return InspectionForm(
        kind=fields.get("kind", "").strip(),
        compound=fields.get("compound", "").strip(),
        location=fields.get("location", ""),
        description=fields.get("description", ""),
        camera=fields.get("camera", "").strip() or None,
        zone=fields.get("zone", "").strip() or None,
        boxes=boxes,
        fixed_on_the_spot=fields.get("fixed_on_the_spot", "").strip().lower() in TRUE,
    )


def source_for(role: str) -> HazardSource:
    return HazardSource.self_inspection if role == "property" else HazardSource.inspection


def propose_kind(categories: Sequence[str], zone_type: str | None = None) -> HazardKind | None:
    """The likeliest kind for what was found: a two-wheeler is an e-bike indoors, a vehicle one in the fire
    lane (on the perimeter road: perimeter parking), clutter is stairwell storage indoors, else lane obstruction;
    in a safety exit or evacuation route anything blocks it. Nothing found: no proposal."""
    found = set(categories) - {"person"}
    if not found:
        return None
    if zone_type in (ZoneType.safety_exit.value, ZoneType.evacuation_route.value) and "two_wheeler" not in found:
        return HazardKind.blocked_exit
    if "two_wheeler" in found and zone_type != ZoneType.fire_lane.value:
        return HazardKind.ebike_indoor
    if "vehicle" in found or "two_wheeler" in found:
        if zone_type == ZoneType.perimeter_road.value:
            return HazardKind.perimeter_parking
        return HazardKind.vehicle_in_fire_lane
    return HazardKind.stairwell_storage if zone_type in INDOOR else HazardKind.lane_obstruction


def check_photo(data: bytes, limits: Limits, what: str = "photo") -> np.ndarray:
    """The decoded BGR image, or TooLarge / Invalid saying why not."""
    if len(data) > limits.max_bytes:
        raise TooLarge(f"the {what} is over the {limits.max_bytes}-byte limit")
    try:
        image, _media = decode_image(data, limits.max_pixels)
    except ImageRejectedError as exc:
        if exc.reason == "too_many_pixels":
            raise TooLarge(f"the {what}: {exc}") from None
        raise Invalid(f"the {what} is not usable: {exc}", reason="not_an_image") from None
    except ImportError:  # Ultralytics' Image.open patch wanting optional HEIF support
        raise Invalid(f"the {what} is not a readable JPEG or PNG", reason="not_an_image") from None
    return image


def _require_inspector(who: Principal) -> None:
    if who.role not in INSPECTORS:
        raise Forbidden(f"role {who.role!r} may not record inspections")


def propose(pool: InferencePool, who: Principal, data: bytes, limits: Limits, zone_type: str | None = None) -> Proposal:
    """Run the model on a photo (blocking: call it from a worker thread, never on the event loop)."""
    _require_inspector(who)
    if zone_type and zone_type not in {z.value for z in ZoneType}:
        raise Invalid(f"unknown zone type {zone_type!r}", reason="bad_zone_type")
    image = check_photo(data, limits)
    try:
        found, inference_ms = pool.submit(image).result(timeout=INFERENCE_TIMEOUT_S)
    except QueueFullError:
        raise Unavailable("the model is busy; try again shortly") from None
    except TimeoutError:
        raise Unavailable("the model took too long; try again shortly") from None
    boxes = [
        ProposedBox(
            class_name=str(found.class_name[i]),
            category=str(found.category[i]),
            confidence=round(float(found.confidence[i]), 4),
            box=[round(float(v), 1) for v in found.xyxy[i]],
        )
        for i in range(len(found))
        if str(found.category[i]) != "person"
    ]
    height, width = image.shape[:2]
    kind = propose_kind([b.category for b in boxes], zone_type or None)
    return Proposal(kind=kind, boxes=boxes, width=width, height=height, inference_ms=round(inference_ms, 1))


def _check_boxes(boxes: Sequence[Sequence[float]], width: int, height: int) -> list[list[float]]:
    if len(boxes) > MAX_BOXES:
        raise Invalid(f"at most {MAX_BOXES} boxes", reason="bad_boxes")
    checked = []
    for box in boxes:
        try:
            x1, y1, x2, y2 = (float(v) for v in box)
        except (TypeError, ValueError):
            raise Invalid("each box is [x1, y1, x2, y2] in pixels of the first photo", reason="bad_boxes") from None
        x1, x2 = max(0.0, min(x1, width)), max(0.0, min(x2, width))
        y1, y2 = max(0.0, min(y1, height)), max(0.0, min(y2, height))
        if not (x2 > x1 and y2 > y1):
            raise Invalid(f"box {list(box)} is empty or outside the {width}x{height} photo", reason="bad_boxes")
        checked.append([round(v, 1) for v in (x1, y1, x2, y2)])
    return checked


def _check_place(session: Session, site: Site, who: Principal, form: InspectionForm) -> tuple[str, str]:
    """The compound must exist and be the caller's; camera and zone, if named, must be in it: (zone, type)."""
    if site.compound(form.compound) is None or not can_see_compound(session, who, form.compound):
        raise NotFound(f"compound {form.compound!r} not found", reason="unknown_compound")
    if not form.camera:
        if form.zone:
            raise Invalid("a zone needs its camera", reason="bad_zone")
        return "", ""
    camera = site.camera(form.camera)
    if camera is None or camera.compound != form.compound:
        raise Invalid(f"camera {form.camera!r} is not in compound {form.compound!r}", reason="bad_camera")
    if not form.zone:
        return "", ""
    zone = camera.zone(form.zone)
    if zone is None:
        raise Invalid(f"zone {form.zone!r} is not one of camera {form.camera!r}'s", reason="bad_zone")
    return zone.id, zone.type.value


def record_inspection(
    session: Session,
    writer: HazardWriter,
    site: Site,
    who: Principal,
    form: InspectionForm,
    photos: Sequence[bytes],
    limits: Limits,
    after_photo: bytes | None = None,
) -> HazardDetail:
    """Check everything, then store the hazard, its pictures and (fixed on the spot) the after photo and the
    rectification, in the caller's transaction; audited. Forbidden, NotFound, Invalid, TooLarge say why not."""
    _require_inspector(who)
    if form.kind not in INSPECTION_KINDS:
        raise Invalid(f"kind {form.kind!r} is not one an inspection records", reason="bad_kind")
    location, description = form.location.strip(), form.description.strip()
    if not location:
        raise Invalid("say where it is (location)", reason="missing_location")
    if len(location) > MAX_LOCATION:
        raise Invalid(f"location is over {MAX_LOCATION} characters", reason="too_long")
    if len(description) > MAX_DESCRIPTION:
        raise Invalid(f"description is over {MAX_DESCRIPTION} characters", reason="too_long")
    zone_key, zone_type = _check_place(session, site, who, form)
    if not photos:
        raise Invalid("an inspection needs at least one photo", reason="missing_photo")
    if len(photos) > MAX_PHOTOS:
        raise Invalid(f"at most {MAX_PHOTOS} photos", reason="too_many_photos")
    images = [check_photo(data, limits, f"photo {n}") for n, data in enumerate(photos, 1)]
    if form.fixed_on_the_spot and not after_photo:
        raise Invalid("fixed on the spot needs an after photo", reason="missing_after_photo")
    if after_photo and not form.fixed_on_the_spot:
        raise Invalid("an after photo comes with fixed_on_the_spot", reason="unexpected_after_photo")
    if after_photo:
        check_photo(after_photo, limits, "after photo")
    height, width = images[0].shape[:2]
    boxes = _check_boxes(form.boxes, width, height)

    kind = HazardKind(form.kind)
    source = source_for(who.role)
    now = utcnow()
    t = translator(evidence_language(site))
    kept = {"original": photos[0]} | {f"photo-{n}": data for n, data in enumerate(photos[1:], 2)}

    def pictures(hazard: m.HazardEvent) -> dict[str, bytes]:
        """Drawn once the hazard has its number, which the caption shows."""
        facts = InspectionFacts(
            hazard_id=hazard.id,
            compound_id=form.compound,
            kind_label=t(f"kind.{kind.value}"),
            palette=palette_key(KIND_CATEGORY.get(kind, "clutter"), kind.value),
            boxes=boxes,
            found_by=f"{t(f'source.{source.value}')} {who.name}",
            location=location,
            captured_at=now,
        )
        return {"original": kept["original"]} | inspection_pictures(images[0], facts, site, t) | kept

    new = NewHazard(
        engine_key=f"{source.value}:{secrets.token_hex(12)}",
        kind=kind.value,
        source=source.value,
        found_by=who.actor,
        camera_id=form.camera or None,
        compound_id=form.compound,
        zone_key=zone_key,
        zone_type=zone_type,
        category=KIND_CATEGORY.get(kind, ""),
        class_name="",
        first_seen_at=now,
        opened_at=now,
        location=location,
        description=description,
        box=boxes[0] if boxes else [],
    )
    assignment = assign(site, form.compound, kind.value, now)
    note = f"{source.value} by {who.actor}: {location}"
    hazard = writer.open(
        session, new, assignment, note, pictures, params={"source": source.value, "location": location}
    )
    audit(session, who, f"hazard.{source.value}", "hazard", hazard.id, f"{kind.value} at {location}")
    if after_photo:
        after = writer.add_after_photo(session, hazard, after_photo, who.actor)
        writer.transition(
            session, hazard, HazardStatus.rectified, who.actor, "fixed on the spot", {"on_the_spot": True}
        )
        audit(session, who, "hazard.fixed_on_the_spot", "hazard", hazard.id, after)
    session.flush()
    session.refresh(hazard)
    return HazardDetail.of(hazard)
