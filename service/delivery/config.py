"""Delivery channels and escalation rules as written in the site file, validated and typed.

Agencies list `channels` (several allowed, told apart by `name`); the site has one `escalation` section.
This module must not import `service.config.site` (which imports it), so the agency kinds, zone types and
categories it needs are spelled out here; a test keeps them in step with the site's enums.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from service.config.duties import AgencyKind, ZoneType

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
HazardEvent = Literal[
    "opened", "acknowledged", "rectified", "dismissed", "cleared", "confirmed", "escalated", "disputed", "undone"
]
ReportEvent = Literal["weekly_report", "final_report"]  # campaign reports (service/reports/schedule.py)
LiftEvent = Literal["lift_command"]  # to a lift's controller (service/delivery/lift_commands.py): opt-in only
DeliveredEvent = Literal[HazardEvent, ReportEvent, LiftEvent]  # nested Literals flatten into one
OPT_IN_EVENTS = frozenset(get_args(LiftEvent))  # sent only to channels that list them in `events`
MACHINE_CHANNELS = ("webhook", "mqtt")  # the channels a lift controller can listen on
DELIVERED_EVENTS: tuple[str, ...] = get_args(HazardEvent)  # the hazard history actions that are sent
CategoryName = Literal["vehicle", "two_wheeler", "clutter"]

_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$")


def _parse_duration(value: object) -> object:
    """'30m', '24h', '1h30m', '2d', '90s' or a number of seconds; anything else is left to pydantic."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match and any(match.groups()):
            days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
            return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    return value


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("duration must be positive")
    return value


Duration = Annotated[timedelta, BeforeValidator(_parse_duration), AfterValidator(_positive)]


def _cooldown(value: object) -> object:
    """A duration as above, or 0 / "0" for none."""
    return timedelta(0) if value in (0, "0") else _parse_duration(value)


def _not_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError("cooldown must not be negative (0 means none)")
    return value


Cooldown = Annotated[timedelta, BeforeValidator(_cooldown), AfterValidator(_not_negative)]
"""How long after a hazard closes the same zone does not alert a recipient again (docs/delivery.md)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def secret_from_env(variable: str | None, what: str) -> str | None:
    """Secrets may stay out of the site file: `secret_env: NAME` reads them from the environment at load."""
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise ValueError(f"{what}: environment variable {variable} is not set")
    return value


class _Channel(_Strict):
    name: Name | None = Field(default=None, description="Tells several channels of one agency apart.")
    events: tuple[DeliveredEvent, ...] | None = Field(default=None, description="Only these events; default all.")
    compounds: tuple[Name, ...] | None = Field(
        default=None, description="Only hazards of these compounds (within the agency's responsibility)."
    )
    timeout_s: float = Field(default=10.0, gt=0, le=120)
    cooldown: Cooldown | None = Field(
        default=None, description="This channel's cooldown, instead of the zone's (0: every hazard alerts)."
    )

    @model_validator(mode="after")
    def _environment(self) -> _Channel:
        """A secret named by environment variable must be there at start-up, not fail every delivery later."""
        for field_name in ("secret_env", "password_env"):
            secret_from_env(getattr(self, field_name, None), f"{field_name}")
        return self

    @property
    def key(self) -> str:
        return self.name or self.type  # type: ignore[attr-defined]

    @model_validator(mode="after")
    def _lift_commands_to_machines(self) -> _Channel:
        listed = OPT_IN_EVENTS & set(self.events or ())
        if listed and self.type not in MACHINE_CHANNELS:  # type: ignore[attr-defined]
            raise ValueError(f"{', '.join(sorted(listed))} goes to a machine: use a webhook or mqtt channel")
        return self

    def accepts(self, event: str, compound_id: str) -> bool:
        listed = event in self.events if self.events is not None else event not in OPT_IN_EVENTS
        return listed and (self.compounds is None or compound_id in self.compounds)


class WebhookChannel(_Channel):
    """JSON POST signed with HMAC-SHA256 over `<timestamp>.<body>` (see docs/delivery.md)."""

    type: Literal["webhook"]
    url: str = Field(pattern=r"^https?://")
    secret: str | None = Field(default=None, min_length=16)
    secret_env: str | None = None
    include_thumbnail: bool = Field(default=False, description="Thumbnail JPEG inline as base64.")
    headers: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _secret(self) -> WebhookChannel:
        if (self.secret is None) == (self.secret_env is None):
            raise ValueError("webhook needs exactly one of 'secret' (16+ characters) or 'secret_env'")
        return self

    @property
    def signing_secret(self) -> str:
        return self.secret or secret_from_env(self.secret_env, "webhook") or ""


class MqttChannel(_Channel):
    """Publishes `<prefix>/<compound>/<camera>/hazards` (QoS 1) and a retained `.../state` per camera."""

    type: Literal["mqtt"]
    host: str = "127.0.0.1"
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    tls: bool = False
    topic_prefix: str = Field(default="clearway", pattern=r"^[^#+\s]+$")
    qos: Literal[0, 1, 2] = 1
    retain_state: bool = True
    client_id: str | None = None

    @property
    def resolved_password(self) -> str | None:
        return self.password or secret_from_env(self.password_env, "mqtt")


class WecomChannel(_Channel):
    """WeCom (企业微信) group robot: the robot's webhook address, `.../cgi-bin/webhook/send?key=...`."""

    type: Literal["wecom"]
    url: str = Field(pattern=r"^https?://")


class DingtalkChannel(_Channel):
    """DingTalk (钉钉) group robot; with `secret` the URL is signed (timestamp + HMAC-SHA256, 加签)."""

    type: Literal["dingtalk"]
    url: str = Field(pattern=r"^https?://")
    secret: str | None = None
    secret_env: str | None = None
    at_mobiles: tuple[str, ...] = ()
    at_all: bool = False

    @property
    def signing_secret(self) -> str | None:
        return self.secret or secret_from_env(self.secret_env, "dingtalk")


class EmailChannel(_Channel):
    """SMTP, with the annotated evidence image attached."""

    type: Literal["email"]
    host: str
    port: int = Field(default=25, ge=1, le=65535)
    security: Literal["none", "starttls", "ssl"] = "none"
    username: str | None = None
    password: str | None = None
    password_env: str | None = None
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    to: tuple[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")], ...] = Field(min_length=1)
    attach_image: bool = True

    @property
    def resolved_password(self) -> str | None:
        return self.password or secret_from_env(self.password_env, "email")


Channel = Annotated[
    WebhookChannel | MqttChannel | WecomChannel | DingtalkChannel | EmailChannel, Field(discriminator="type")
]


def _unique_names(channels: list) -> list:
    keys = [c.key for c in channels]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ValueError(f"channel names repeat {repeated}: give each channel of one type its own 'name'")
    return channels


Channels = Annotated[list[Channel], AfterValidator(_unique_names)]


class Deadline(_Strict):
    """How long the property company has to acknowledge and to rectify, from the hazard's opening."""

    zone_type: ZoneType | Literal["*"] = "*"
    category: CategoryName | Literal["*"] = "*"
    acknowledge: Duration
    rectify: Duration

    @model_validator(mode="after")
    def _order(self) -> Deadline:
        if self.rectify < self.acknowledge:
            raise ValueError("rectify deadline is shorter than the acknowledge deadline")
        return self


def _deadline(zone_type: str, acknowledge: str, rectify: str) -> Deadline:
    return Deadline.model_validate({"zone_type": zone_type, "acknowledge": acknowledge, "rectify": rectify})


DEFAULT_DEADLINES: tuple[Deadline, ...] = (
    _deadline("fire_lane", "30m", "24h"),
    _deadline("safety_exit", "15m", "4h"),
    _deadline("stairwell", "30m", "12h"),
    _deadline("evacuation_route", "30m", "12h"),
    _deadline("perimeter_road", "15m", "2h"),
    _deadline("elevator", "5m", "30m"),  # an e-bike in a lift is taken out at once
    _deadline("*", "30m", "24h"),
)


class EscalationConfig(_Strict):
    """Missed deadline -> one step up the ladder; a hazard confirmed as major goes to the top step."""

    enabled: bool = True
    ladder: tuple[tuple[AgencyKind, ...], ...] = Field(
        default=(
            (AgencyKind.police_station,),
            (AgencyKind.fire_brigade, AgencyKind.county_office),
        ),
        min_length=1,
        description="Steps above the routed recipients, lowest first.",
    )
    deadlines: tuple[Deadline, ...] = Field(default=(), description="Checked first; built-in defaults after.")
    major_to_top: bool = Field(default=True, description="Confirmed major hazards go to the top step.")

    def deadline_for(self, zone_type: str, category: str) -> Deadline:
        for rule in (*self.deadlines, *DEFAULT_DEADLINES):
            if rule.zone_type in ("*", zone_type) and rule.category in ("*", category):
                return rule
        raise AssertionError("the catch-all default deadline always matches")  # pragma: no cover

    @property
    def shortest(self) -> timedelta:
        return min(rule.acknowledge for rule in (*self.deadlines, *DEFAULT_DEADLINES))
