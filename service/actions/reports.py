"""Residents' reports (举报投诉) through Open311 GeoReport v2 or the public /report page: filed here, then
waiting in `pending_review` until the compound's property company or police station accepts or rejects them
(`act_on_hazard`, actions "accept" and "reject").

A report must name a compound of the site: without one nobody answers for it, so it is refused (Invalid,
reason "missing_compound"). A photo is decoded and re-encoded (which drops EXIF, GPS included) into the
hazard's "original" and "thumbnail" evidence; a `media_url` is kept as text and never fetched. The
reporter's contact goes into `resident_reports`, apart from the hazard, its history and its deliveries.
Every refusal raises before anything is written.
"""

from __future__ import annotations

import math
import re
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from service.actions.errors import Invalid
from service.actions.report_limits import ReportLimits
from service.auth.audit import audit
from service.config.duties import HazardKind
from service.config.report_settings import ReportSettings
from service.config.site import Site
from service.hazards.routing import assign
from service.store.hazard_writer import HazardWriter, NewHazard
from service.store.lifecycle import HazardStatus
from service.store.report_models import ResidentReport
from service.vision.annotate import encode_jpeg, thumbnail
from service.vision.decoding import ImageRejectedError, decode_image

REPORTABLE = tuple(k for k in HazardKind if k != HazardKind.camera_offline)
CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out over the phone
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TEXT_LIMITS = {"address_string": 300, "media_url": 500, "first_name": 100, "last_name": 100, "email": 200}
TEXT_LIMITS |= {"phone": 50}


class MediaRejected(Invalid):
    """The photo was refused: `reason` says why (too_large and too_many_pixels answer 413)."""


@dataclass(frozen=True)
class ReportForm:
    """What a resident sent, as text (Open311 field names); every field may be missing."""

    service_code: str = ""
    description: str = ""
    compound: str = ""
    address_string: str = ""
    lat: str = ""
    long: str = ""
    media_url: str = ""
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    phone: str = ""

    @classmethod
    def of(cls, fields: dict[str, object]) -> ReportForm:
        """From form fields; non-text values (a file in a text field) count as missing."""
        names = cls.__dataclass_fields__
        return cls(**{n: v.strip() for n, v in fields.items() if n in names and isinstance(v, str)})


@dataclass(frozen=True)
class CheckedReport:
    kind: HazardKind
    compound_id: str
    description: str
    location: str
    lat: float | None
    long: float | None


def new_tracking_code() -> str:
    """16 random characters of 32 (80 bits), in groups of four: the public, unguessable request id."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def normalise_code(code: str) -> str:
    return code.strip().upper()[:32]


def _coordinate(value: str, name: str, bound: float) -> float:
    try:
        number = float(value)
    except ValueError:
        raise Invalid(f"{name} {value[:40]!r} is not a number", reason="bad_lat_long") from None
    if not math.isfinite(number) or not -bound <= number <= bound:
        raise Invalid(f"{name} must be between {-bound:g} and {bound:g}", reason="bad_lat_long")
    return number


def check_report(form: ReportForm, site: Site, settings: ReportSettings) -> CheckedReport:
    """The report's kind, compound, description and location, or Invalid with the first thing wrong."""
    if form.service_code not in {k.value for k in REPORTABLE}:
        raise Invalid(f"unknown service_code {form.service_code[:64]!r}", reason="unknown_service_code")
    if not form.description:
        raise Invalid("a description of the hazard is required", reason="missing_description")
    if len(form.description) > settings.max_description:
        raise Invalid(f"description is over {settings.max_description} characters", reason="description_too_long")
    for name, limit in TEXT_LIMITS.items():
        if len(getattr(form, name)) > limit:
            raise Invalid(f"{name} is over {limit} characters", reason="field_too_long")
    if not form.compound:
        raise Invalid("name the compound (field 'compound'): without it nobody can answer", reason="missing_compound")
    if site.compound(form.compound) is None:
        raise Invalid(f"unknown compound {form.compound[:64]!r}", reason="unknown_compound")
    if bool(form.lat) != bool(form.long):
        raise Invalid("lat and long come together", reason="bad_lat_long")
    lat = _coordinate(form.lat, "lat", 90) if form.lat else None
    long = _coordinate(form.long, "long", 180) if form.long else None
    if not form.address_string and lat is None:
        raise Invalid("say where: address_string, or lat and long", reason="missing_location")
    if form.email and not EMAIL.match(form.email):
        raise Invalid("email is not an e-mail address", reason="bad_email")
    location = form.address_string or f"{lat:.6f},{long:.6f}"
    return CheckedReport(HazardKind(form.service_code), form.compound, form.description, location, lat, long)


def media_pictures(data: bytes, max_bytes: int, max_pixels: int) -> dict[str, bytes]:
    """The photo re-encoded (no EXIF) as "original" and a "thumbnail"; MediaRejected if it is not a sane one."""
    if len(data) > max_bytes:
        raise MediaRejected(f"photo is over the {max_bytes}-byte limit", reason="too_large")
    try:
        image, _media_type = decode_image(data, max_pixels)
    except ImageRejectedError as exc:
        raise MediaRejected(str(exc), reason=exc.reason) from None
    return {"original": encode_jpeg(image, 90), "thumbnail": encode_jpeg(thumbnail(image), 80)}


@dataclass(frozen=True)
class Filing:
    """Where a report comes from and what it may use: the site, the limits, the caller's address."""

    site: Site
    settings: ReportSettings
    limits: ReportLimits
    max_pixels: int
    client: str


def file_report(
    session: Session, writer: HazardWriter, filing: Filing, form: ReportForm, media: bytes | None, at: datetime
) -> ResidentReport:
    """Check, limit, then write the pending hazard, its evidence and the report row (committed by the caller).
    Raises Invalid / MediaRejected / RateLimited before anything is written."""
    checked = check_report(form, filing.site, filing.settings)
    if media is not None and len(media) > filing.settings.max_media_bytes:
        raise MediaRejected(f"photo is over the {filing.settings.max_media_bytes}-byte limit", reason="too_large")
    filing.limits.admit(filing.client, checked.compound_id, filing.settings)
    pictures = media_pictures(media, filing.settings.max_media_bytes, filing.max_pixels) if media else {}
    code = new_tracking_code()
    new = NewHazard(
        engine_key=f"report:{code}",
        kind=checked.kind.value,
        found_by="resident",
        camera_id=None,
        compound_id=checked.compound_id,
        zone_key="",
        zone_type="report",
        category="resident",
        class_name=checked.kind.value,
        first_seen_at=at,
        opened_at=at,
        source="resident",
        status=HazardStatus.pending_review.value,
        location=checked.location,
        description=checked.description,
    )
    assignment = assign(filing.site, checked.compound_id, checked.kind.value, at)
    hazard = writer.open(session, new, assignment, "resident report, waiting for review", pictures, params={})
    report = ResidentReport(
        hazard_id=hazard.id,
        tracking_code=code,
        address_string=form.address_string,
        lat=checked.lat,
        long=checked.long,
        media_url=form.media_url,
        first_name=form.first_name,
        last_name=form.last_name,
        email=form.email,
        phone=form.phone,
    )
    session.add(report)
    audit(session, None, "report.filed", "hazard", hazard.id, checked.kind.value, ip=filing.client, actor="resident")
    session.flush()
    return report
