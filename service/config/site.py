"""The site file: who is responsible for what, which cameras watch which zones.

Validated with pydantic so a mistake is reported with its exact path, e.g.
`cameras[2].zones[0].polygon: polygon needs at least 3 points`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from service.config.calibration import GroundCalibration
from service.config.campaign import Campaign
from service.config.devices import DahuaSource, Device, FtpUpload, SnapshotSource
from service.config.duties import DEFAULT_DUTIES, AgencyKind, Duty, HazardKind, ZoneType
from service.delivery.config import Channels, EscalationConfig

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Point = tuple[float, float]


Category = Literal["vehicle", "two_wheeler", "clutter", "person"]

DEFAULT_DWELL_SECONDS: dict[ZoneType, int] = {
    ZoneType.fire_lane: 300,
    ZoneType.stairwell: 120,
    ZoneType.evacuation_route: 120,
    ZoneType.safety_exit: 60,
    ZoneType.perimeter_road: 600,
}

DEFAULT_CATEGORIES: dict[ZoneType, tuple[str, ...]] = {
    ZoneType.fire_lane: ("vehicle", "two_wheeler", "clutter"),
    ZoneType.stairwell: ("two_wheeler", "clutter"),
    ZoneType.evacuation_route: ("vehicle", "two_wheeler", "clutter"),
    ZoneType.safety_exit: ("vehicle", "two_wheeler", "clutter"),
    ZoneType.perimeter_road: ("vehicle",),
}


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Agency(StrictModel):
    id: Identifier
    name: str = Field(min_length=1)
    kind: AgencyKind
    channels: Channels = Field(default_factory=list, description="Delivery channels (see docs/delivery.md).")


class Compound(StrictModel):
    id: Identifier
    name: str = Field(min_length=1)
    address: str = ""
    property_company: Identifier | None = Field(
        default=None, description="without one, the township organises the compound's safety (and rectifies)"
    )
    police_station: Identifier
    township: Identifier | None = Field(default=None, description="乡镇/街道 the compound belongs to")

    @model_validator(mode="after")
    def _someone_manages_it(self) -> Compound:
        if self.property_company is None and self.township is None:
            raise ValueError("a compound needs a property_company, or a township that manages it")
        return self

    def agency_of(self, kind: AgencyKind) -> str | None:
        """The compound's own agency of a compound-bound kind (property company, police station, township)."""
        return {
            AgencyKind.property_company: self.property_company,
            AgencyKind.police_station: self.police_station,
            AgencyKind.township: self.township,
        }.get(kind)


def _check_polygon(points: list[Point], what: str) -> list[Point]:
    if len(points) < 3:
        raise ValueError(f"{what} needs at least 3 points, got {len(points)}")
    for x, y in points:
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0):
            raise ValueError(f"{what} point ({x}, {y}) is outside the image: use normalised 0..1 coordinates")
    area2 = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(points, points[1:] + points[:1], strict=True))
    if abs(area2) < 1e-6:
        raise ValueError(f"{what} has no area (points are collinear or repeated)")
    return points


class Zone(StrictModel):
    id: Identifier
    type: ZoneType
    name: str = ""
    polygon: list[Point]
    dwell_seconds: float | None = Field(default=None, gt=0, le=7 * 24 * 3600)
    categories: tuple[Category, ...] | None = None
    min_overlap: float = Field(default=0.5, gt=0, le=1, description="Box/zone overlap that counts as inside.")

    @field_validator("polygon")
    @classmethod
    def _polygon(cls, value: list[Point]) -> list[Point]:
        return _check_polygon(value, "polygon")

    @field_validator("categories")
    @classmethod
    def _no_person(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and "person" in value:
            raise ValueError("'person' is counted but never an obstruction; remove it from categories")
        return value

    @property
    def effective_dwell_seconds(self) -> float:
        return self.dwell_seconds if self.dwell_seconds is not None else DEFAULT_DWELL_SECONDS[self.type]

    @property
    def effective_categories(self) -> tuple[str, ...]:
        return self.categories if self.categories is not None else DEFAULT_CATEGORIES[self.type]


class RtspSource(StrictModel):
    """Where and how to pull a camera's stream (the streams package reads these)."""

    url: str = Field(pattern=r"^rtsps?://")
    username: str | None = None
    password: str | None = None
    sample_interval_s: float = Field(default=5.0, ge=0.2, le=3600)
    transport: Literal["tcp", "udp"] = "tcp"
    open_timeout_s: float = Field(default=10.0, gt=0, le=120)
    read_timeout_s: float = Field(default=10.0, gt=0, le=120)
    decode: Literal["auto", "keyframes", "all"] = Field(
        default="auto",
        description="auto: keyframes only while the camera's keyframe interval fits the sample interval.",
    )


class Camera(StrictModel):
    id: Identifier
    compound: Identifier
    name: str = ""
    source: Literal["push", "rtsp", "snapshot", "dahua"] = Field(
        default="push", description="push: frames come to us (HTTP, Hikvision alarm server, FTP); others are pulled"
    )
    rtsp: RtspSource | None = None
    snapshot: SnapshotSource | None = Field(default=None, description="source snapshot: a still on an interval")
    dahua: DahuaSource | None = Field(default=None, description="source dahua: the device's event pictures")
    device: Device | None = Field(default=None, description="the device and channel it is (pushed events)")
    ftp: FtpUpload | None = Field(default=None, description="the FTP login it uploads pictures with")
    zones: list[Zone] = Field(default_factory=list)
    masks: list[list[Point]] = Field(default_factory=list, description="Regions ignored entirely.")
    calibration: GroundCalibration | None = Field(default=None, description="Ground homography (clear width).")
    min_clear_width_m: float = Field(default=4.0, gt=0, le=50, description="Fire-lane clear width below: major.")
    static_objects: bool = Field(
        default=True, description="Also find unknown objects left in the zones (background model), not only YOLO's."
    )

    @field_validator("masks")
    @classmethod
    def _masks(cls, value: list[list[Point]]) -> list[list[Point]]:
        return [_check_polygon(mask, "mask") for mask in value]

    @model_validator(mode="after")
    def _source_settings(self) -> Camera:
        for pulled in ("rtsp", "snapshot", "dahua"):
            if self.source == pulled and getattr(self, pulled) is None:
                article = "an" if pulled == "rtsp" else "a"  # "an R-T-S-P section"
                raise ValueError(f"source {pulled!r} needs {article} {pulled!r} section with at least a url")
        ids = [z.id for z in self.zones]
        if len(ids) != len(set(ids)):
            raise ValueError(f"zone ids repeat: {sorted({i for i in ids if ids.count(i) > 1})}")
        return self

    def zone(self, zone_id: str) -> Zone | None:
        return next((z for z in self.zones if z.id == zone_id), None)


class RoutingRule(StrictModel):
    """zone type x category -> agency kinds that receive the hazard. '*' matches any."""

    zone_type: ZoneType | Literal["*"] = "*"
    category: Category | Literal["*"] = "*"
    agency_kinds: tuple[AgencyKind, ...]


class Site(StrictModel):
    """The whole site file."""

    name: str = "Clearway site"
    timezone: str = Field(default="Asia/Shanghai", description="the site's time zone: times people read are in it")
    agencies: list[Agency]
    compounds: list[Compound]
    cameras: list[Camera]
    routing: tuple[RoutingRule, ...] = Field(
        default=(),
        description="camera hazards: zone type x category -> agency kinds, first match wins; "
        "without a match the division of duties decides",
    )
    duties: dict[HazardKind, Duty] = Field(
        default_factory=dict, description="per kind of hazard: who rectifies, supervises, and by when (overrides)"
    )
    escalation: EscalationConfig = Field(default_factory=EscalationConfig, description="See docs/delivery.md.")
    campaign: Campaign | None = Field(default=None, description="dates, phases and reports (docs/reports.md)")

    @model_validator(mode="after")
    def _references(self) -> Site:
        agencies = {a.id: a for a in self.agencies}
        _unique("agencies", [a.id for a in self.agencies])
        _unique("compounds", [c.id for c in self.compounds])
        _unique("cameras", [c.id for c in self.cameras])
        for compound in self.compounds:
            for field_name, kind in (
                ("property_company", AgencyKind.property_company),
                ("police_station", AgencyKind.police_station),
                ("township", AgencyKind.township),
            ):
                ref = getattr(compound, field_name)
                if ref is None:
                    continue
                if ref not in agencies:
                    raise ValueError(f"compound {compound.id!r}: {field_name} {ref!r} is not a known agency")
                if agencies[ref].kind != kind:
                    raise ValueError(f"compound {compound.id!r}: {field_name} {ref!r} is a {agencies[ref].kind}")
        compound_ids = {c.id for c in self.compounds}
        for camera in self.cameras:
            if camera.compound not in compound_ids:
                raise ValueError(f"camera {camera.id!r}: compound {camera.compound!r} is not defined")
        _unique("cameras' devices", [_device_key(c.device) for c in self.cameras if c.device])
        _unique("cameras' FTP usernames", [c.ftp.username for c in self.cameras if c.ftp])
        for agency_id in (self.campaign.recipients.county or ()) if self.campaign else ():
            if agency_id not in agencies:
                raise ValueError(f"campaign.recipients.county: {agency_id!r} is not a known agency")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Shanghai)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def camera(self, camera_id: str) -> Camera | None:
        return next((c for c in self.cameras if c.id == camera_id), None)

    def compound(self, compound_id: str) -> Compound | None:
        return next((c for c in self.compounds if c.id == compound_id), None)

    def agency(self, agency_id: str) -> Agency | None:
        return next((a for a in self.agencies if a.id == agency_id), None)

    def duty(self, kind: str) -> Duty:
        """Who owes what for this kind: the site file's override, else the campaign plan's default."""
        hazard_kind = HazardKind(kind)
        return self.duties.get(hazard_kind) or DEFAULT_DUTIES[hazard_kind]


def _device_key(device: Device) -> str:
    return f"{device.vendor}/{device.mac or device.serial or device.address}/channel {device.channel}"


def _unique(what: str, ids: list[str]) -> None:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"{what}: ids repeat: {repeated}")


class SiteConfigError(ValueError):
    """A site file that cannot be used; the message lists every problem with its path."""


def _format_location(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in {"function-after", "function-before"} or "[" in str(part):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "(site)"


def parse_site(data: object, origin: str = "site file") -> Site:
    """Validate already-loaded YAML/JSON data into a Site."""
    try:
        return Site.model_validate(data)
    except ValidationError as exc:
        lines = [f"{_format_location(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise SiteConfigError(f"{origin} is invalid:\n  " + "\n  ".join(lines)) from None


def load_site(path: str | Path) -> Site:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SiteConfigError(f"site file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise SiteConfigError(f"{path} is not valid YAML: {exc}") from None
    return parse_site(data, origin=str(path))
