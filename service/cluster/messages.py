"""The frame message: what an ingest process tells a worker about one stored camera frame.

The picture itself stays on the shared filesystem (`storage_key`); the message only says where it is and
what it must hash to, so it stays small (well under a kilobyte) and the broker never carries images.
Validation is strict because a message read from the stream was written by another process, perhaps
another version: anything unexpected is refused as `MalformedFrameMessage`, never half-understood.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_validator

MAX_MESSAGE_BYTES = 16 * 1024
"""A frame message is a few hundred bytes; anything this big is not one."""
MAX_HINT_BYTES = 8 * 1024
"""The device's own hint (a Hikvision or Dahua event) is kept, but only this much of it."""
MAX_FRAME_BYTES = 256 * 1024 * 1024

FrameId = Annotated[str, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
"""Also the `Nats-Msg-Id`, so a republished frame is recognised as the same one."""
CameraId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
StorageKey = Annotated[
    str, Field(max_length=512, pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.-]*)*$")
]
"""A relative POSIX path under the shared frame store: no leading `/`, no `..`, no `\\`, no empty part."""


class MalformedFrameMessage(ValueError):
    """The bytes are not a frame message this version understands (the consumer terminates it)."""


class FrameMessage(BaseModel):
    """One frame, stored and announced: who took it, when, where its bytes are and what they hash to."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    v: Annotated[int, Field(ge=1, le=1, description="Schema version; a newer one is refused here.")] = 1
    frame_id: FrameId
    camera_id: CameraId
    captured_at: AwareDatetime
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    storage_key: StorageKey
    source: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,15}$")] = "push"
    content_type: Literal["image/jpeg", "image/png"]
    size: Annotated[int, Field(gt=0, le=MAX_FRAME_BYTES)]
    hint: dict[str, Any] | None = None

    @field_validator("captured_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.astimezone(UTC)

    @field_validator("hint")
    @classmethod
    def _small_hint(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and len(json.dumps(value, ensure_ascii=False).encode("utf-8")) > MAX_HINT_BYTES:
            raise ValueError(f"hint is larger than {MAX_HINT_BYTES} bytes")
        return value

    @staticmethod
    def frame_id_for(camera_id: str, captured_at: datetime, sha256: str) -> str:
        """A frame id derived from what the frame is, so a client's retried upload dedups like our own retry.

        32 hex digits of BLAKE2b over camera id, capture instant (UTC, microseconds) and the bytes' SHA-256.
        """
        instant = captured_at.astimezone(UTC).isoformat(timespec="microseconds")
        key = f"{camera_id}\n{instant}\n{sha256}".encode()
        return hashlib.blake2b(key, digest_size=16).hexdigest()

    def to_bytes(self) -> bytes:
        """Compact UTF-8 JSON, the message body on the stream."""
        return self.model_dump_json(exclude_none=True).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes) -> FrameMessage:
        """Parse and validate a message body; MalformedFrameMessage with a one-line reason otherwise."""
        if len(data) > MAX_MESSAGE_BYTES:
            raise MalformedFrameMessage(f"{len(data)} bytes, more than {MAX_MESSAGE_BYTES}")
        try:
            return cls.model_validate_json(data)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(message)"
            raise MalformedFrameMessage(f"{exc.error_count()} error(s); {where}: {first['msg']}") from None
