"""How a camera is reached when it is not a gateway pushing frames: the device it is, and how it sends pictures.

Why here: Hikvision and Dahua cameras and NVRs send pictures themselves (alarm-server push, FTP upload) or serve
them (event streams, snapshots). The site file says which device and channel is which camera, and with what
credentials; the receivers (service/sources/) only read these. Secrets may stay in the environment
(`password_env`), read at start-up like the delivery channels' (a missing one is a start-up error).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from service.delivery.config import secret_from_env

MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _secret(password: str | None, variable: str | None, what: str) -> str | None:
    return password if variable is None else secret_from_env(variable, what)


class Credentials(_Strict):
    username: str | None = None
    password: str | None = None
    password_env: str | None = None

    @model_validator(mode="after")
    def _environment(self) -> Credentials:
        if self.password is not None and self.password_env is not None:
            raise ValueError("give either password or password_env, not both")
        _secret(self.password, self.password_env, "password_env")
        return self

    @property
    def secret(self) -> str | None:
        return _secret(self.password, self.password_env, "password_env")


class Device(_Strict):
    """Which device and channel a camera is, as the device names itself in what it sends.

    At least one of mac, serial or address. `channel` is the channelID the device sends: a camera sends 1; an
    NVR sends its analogue inputs as 1..32 and its IP cameras D1, D2... as 33, 34... (Hikvision's numbering).
    """

    vendor: Literal["hikvision", "dahua", "other"] = "hikvision"
    mac: str | None = Field(default=None, description="e.g. 44:19:b6:12:34:56 (any case, - or : separated)")
    serial: str | None = Field(default=None, description="the serial number the device reports, in full")
    address: str | None = Field(default=None, description="the IP address the device sends from or reports")
    channel: int = Field(default=1, ge=1, le=512)

    @field_validator("mac")
    @classmethod
    def _mac(cls, value: str | None) -> str | None:
        return normal_mac(value) if value is not None else None

    @model_validator(mode="after")
    def _identified(self) -> Device:
        if not (self.mac or self.serial or self.address):
            raise ValueError("a device needs at least one of mac, serial or address")
        return self


def normal_mac(value: str) -> str:
    """'44-19-B6-12-34-56' or '4419b6123456' -> '44:19:b6:12:34:56'; ValueError if it is not a MAC."""
    digits = re.sub(r"[^0-9a-fA-F]", "", value).lower()
    mac = ":".join(digits[i : i + 2] for i in range(0, len(digits), 2))
    if not MAC.match(mac):
        raise ValueError(f"{value!r} is not a MAC address")
    return mac


class FtpUpload(Credentials):
    """The FTP login this camera (or its NVR) uploads pictures with; the service's FTP server checks it."""

    username: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class SnapshotSource(Credentials):
    """Pull a still on an interval: a plain snapshot URL, or ONVIF (the URL is the device service address and
    the snapshot URL is asked with GetSnapshotUri)."""

    url: str = Field(pattern=r"^https?://")
    onvif: bool = False
    profile: str | None = Field(default=None, description="ONVIF media profile token; default the first")
    auth: Literal["auto", "basic", "digest"] = "auto"
    interval_s: float = Field(default=5.0, ge=0.5, le=3600)
    timeout_s: float = Field(default=10.0, gt=0, le=120)


class DahuaSource(Credentials):
    """Dahua's HTTP API: the event stream (eventManager.cgi attach) or the event snapshot stream
    (snapManager.cgi attachFileProc), multipart/x-mixed-replace, with digest authentication."""

    url: str = Field(pattern=r"^https?://", description="the device, e.g. http://192.168.1.108")
    mode: Literal["snapshots", "events"] = "snapshots"
    channel: int = Field(default=1, ge=1, le=512)
    events: tuple[str, ...] = Field(default=("All",), description="event codes, e.g. CrossRegionDetection")
    heartbeat_s: int = Field(default=30, ge=5, le=300)
    timeout_s: float = Field(default=10.0, gt=0, le=120)
