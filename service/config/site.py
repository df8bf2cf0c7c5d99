"""The site file: who is responsible for what, which cameras watch which zones.

Validated with pydantic, then its cross-references are checked on the raw data (service/config/
site_references.py), so every mistake of a file is reported at once, each with its exact path, e.g.
`cameras[2].zones[0].polygon (camera cam-gate, zone lane): polygon needs at least 3 points, got 2`.
`load_site` is the one way in (serve, `site check`, the site holder, the zone editor through `parse_site`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from service.config.arming import ArmingSchedule, SiteCalendar, armed_at
from service.config.calibration import GroundCalibration
from service.config.campaign import Campaign
from service.config.devices import DahuaSource, Device, FtpUpload, SnapshotSource
from service.config.duties import DEFAULT_DUTIES, AgencyKind, Duty, HazardKind, ZoneType
from service.config.polygons import check_polygon
from service.config.site_problems import Problem, SiteConfigError, collect, validation_problems  # noqa: F401
from service.config.site_references import MANAGER_MISSING, reference_problems, source_section_missing
from service.config.site_yaml import read_site_yaml
from service.delivery.config import Channels, Cooldown, EscalationConfig

Identifier = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
Point = tuple[float, float]


Category = Literal["vehicle", "two_wheeler", "clutter", "person"]

DEFAULT_DWELL_SECONDS: dict[ZoneType, int] = {
    ZoneType.fire_lane: 300,
    ZoneType.stairwell: 120,
    ZoneType.evacuation_route: 120,
    ZoneType.safety_exit: 60,
    ZoneType.perimeter_road: 600,
    ZoneType.elevator: 5,  # an e-bike wheeled into a lift is there for seconds (docs/lifts.md)
}

DEFAULT_CATEGORIES: dict[ZoneType, tuple[str, ...]] = {
    ZoneType.fire_lane: ("vehicle", "two_wheeler", "clutter"),
    ZoneType.stairwell: ("two_wheeler", "clutter"),
    ZoneType.evacuation_route: ("vehicle", "two_wheeler", "clutter"),
    ZoneType.safety_exit: ("vehicle", "two_wheeler", "clutter"),
    ZoneType.perimeter_road: ("vehicle",),
    ZoneType.elevator: ("two_wheeler",),  # no clutter: strollers, wheelchairs, shopping carts ride lifts
}

DEFAULT_CLASSES: dict[ZoneType, tuple[str, ...]] = {
    ZoneType.elevator: ("motorcycle",),  # COCO's e-bikes and scooters; its 'bicycle' is a pedal bicycle
}
"""Model class names a zone counts (within its categories) when the site file does not say; absent: all."""

LiftCommand = Literal["voice_warning", "door_hold"]
DEFAULT_LIFT_COMMANDS: tuple[LiftCommand, ...] = ("voice_warning", "door_hold")


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
            raise ValueError(MANAGER_MISSING)
        return self

    def agency_of(self, kind: AgencyKind) -> str | None:
        """The compound's own agency of a compound-bound kind (property company, police station, township)."""
        return {
            AgencyKind.property_company: self.property_company,
            AgencyKind.police_station: self.police_station,
            AgencyKind.township: self.township,
        }.get(kind)


Mask = Annotated[list[Point], AfterValidator(lambda points: check_polygon(points, "mask"))]


class Zone(StrictModel):
    id: Identifier
    type: ZoneType
    name: str = ""
    polygon: list[Point]
    dwell_seconds: float | None = Field(default=None, gt=0, le=7 * 24 * 3600)
    categories: tuple[Category, ...] | None = None
    classes: tuple[Annotated[str, Field(min_length=1, max_length=64)], ...] | None = Field(
        default=None, description="model class names counted, within the categories (elevator: motorcycle)"
    )
    lift_commands: tuple[LiftCommand, ...] | None = Field(
        default=None, description="elevator only: what the lift controller is told to do (docs/lifts.md)"
    )
    min_overlap: float = Field(default=0.5, gt=0, le=1, description="Box/zone overlap that counts as inside.")
    cooldown: Cooldown | None = Field(default=None, description="After a hazard closes: no new alert (site default)")
    arming: ArmingSchedule | None = Field(default=None, description="when it watches (replaces the camera's)")

    @field_validator("polygon")
    @classmethod
    def _polygon(cls, value: list[Point]) -> list[Point]:
        return check_polygon(value, "polygon")

    @field_validator("categories")
    @classmethod
    def _no_person(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value is not None and "person" in value:
            raise ValueError("'person' is counted but never an obstruction; remove it from categories")
        return value

    @model_validator(mode="after")
    def _lift_commands_in_lifts(self) -> Zone:
        if self.lift_commands is not None and self.type != ZoneType.elevator:
            raise ValueError("lift_commands are for zones of type elevator")
        return self

    @property
    def effective_dwell_seconds(self) -> float:
        return self.dwell_seconds if self.dwell_seconds is not None else DEFAULT_DWELL_SECONDS[self.type]

    @property
    def effective_categories(self) -> tuple[str, ...]:
        return self.categories if self.categories is not None else DEFAULT_CATEGORIES[self.type]

    @property
    def effective_classes(self) -> tuple[str, ...] | None:
        """The class names counted; None: every class of the counted categories."""
        return self.classes if self.classes is not None else DEFAULT_CLASSES.get(self.type)

    @property
    def effective_lift_commands(self) -> tuple[str, ...]:
        if self.type != ZoneType.elevator:
            return ()
        return self.lift_commands if self.lift_commands is not None else DEFAULT_LIFT_COMMANDS

    def counts(self, category: str, class_name: str) -> bool:
        """Does an object of this category and class count in this zone?"""
        classes = self.effective_classes
        return category in self.effective_categories and (classes is None or class_name in classes)


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
    masks: list[Mask] = Field(default_factory=list, description="Regions ignored entirely.")
    calibration: GroundCalibration | None = Field(default=None, description="Ground homography (clear width).")
    min_clear_width_m: float = Field(default=4.0, gt=0, le=50, description="Fire-lane clear width below: major.")
    static_objects: bool = Field(
        default=True, description="Also find unknown objects left in the zones (background model), not only YOLO's."
    )
    arming: ArmingSchedule | None = Field(default=None, description="when its zones watch (docs/site-file.md)")
    _calendar: SiteCalendar = PrivateAttr(default_factory=SiteCalendar)  # the site's zone and holidays (Site sets)

    @model_validator(mode="after")
    def _source_settings(self) -> Camera:
        present = {s for s in ("rtsp", "snapshot", "dahua") if getattr(self, s) is not None}
        missing = source_section_missing(self.source, present)
        if missing:
            raise ValueError(missing)
        return self

    def zone(self, zone_id: str) -> Zone | None:
        return next((z for z in self.zones if z.id == zone_id), None)

    def arming_of(self, zone_id: str) -> ArmingSchedule | None:
        """The schedule a zone follows: its own, else the camera's; None: always armed (an unknown zone too)."""
        zone = self.zone(zone_id)
        if zone is None:
            return None
        return zone.arming if zone.arming is not None else self.arming

    def zone_armed(self, zone_id: str, at: datetime) -> bool:
        """May a hazard open in this zone at capture time `at`? On the site's clock, with its holidays.
        An unknown zone is armed (never silently drops a hazard)."""
        calendar = self._calendar
        return armed_at(self.arming_of(zone_id), at, calendar.zone, calendar.holidays)


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
    cooldown: Cooldown = Field(default=timedelta(0), description="zones' default cooldown (docs/delivery.md); 0: none")
    campaign: Campaign | None = Field(default=None, description="dates, phases and reports (docs/reports.md)")
    holidays: tuple[date, ...] = Field(default=(), description="dates (site time) arming schedules treat apart")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as Asia/Shanghai)") from None
        return value

    @field_validator("holidays")
    @classmethod
    def _holidays_once(cls, value: tuple[date, ...]) -> tuple[date, ...]:
        twice = sorted({d for d in value if value.count(d) > 1})
        if twice:
            raise ValueError(f"listed more than once: {', '.join(d.isoformat() for d in twice)}")
        return value

    @model_validator(mode="after")
    def _cameras_know_the_calendar(self) -> Site:
        """Each camera answers `zone_armed` on this site's clock and holidays (private: not in the file)."""
        calendar = SiteCalendar(self.timezone, frozenset(self.holidays))
        for camera in self.cameras:
            camera._calendar = calendar
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def language(self) -> str:
        """What the site's people read: its campaign's language (reports, messages, evidence), else Chinese."""
        return self.campaign.language if self.campaign is not None else "zh"

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


def parse_site(data: object, origin: str = "site file") -> Site:
    """Validate already-loaded YAML/JSON data into a Site; SiteConfigError listing every problem otherwise.

    Field errors and cross-reference problems are gathered in one pass each and reported together, so a
    site whose fields are all valid but whose references are not is refused here, not by a model validator.
    """
    try:
        site: Site | None = Site.model_validate(data)
        located = []
    except ValidationError as exc:
        site, located = None, validation_problems(exc)
    located += reference_problems(data)
    if located:
        raise SiteConfigError.listing(origin, collect(located, data))
    assert site is not None
    return site


def load_site(path: str | Path) -> Site:
    """The site file at `path`, validated (SiteConfigError: not found, not YAML, a key twice, every problem)."""
    path = Path(path)
    return parse_site(read_site_yaml(path), origin=str(path))
