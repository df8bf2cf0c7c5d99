"""NATS JetStream settings for the frame transport, from the environment (CLEARWAY_NATS_...).

Apart from the broker so that process settings can nest them without importing the NATS client.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BrokerSettings(BaseSettings):
    """NATS settings from the environment (CLEARWAY_NATS_...)."""

    model_config = SettingsConfigDict(env_prefix="CLEARWAY_NATS_", env_file=None, extra="ignore")

    url: str = Field(default="nats://127.0.0.1:4222", description="Server URL(s), comma separated.")
    partitions: int = Field(default=16, ge=1, le=4096, description="Camera partitions; never change on a live stream.")
    replicas: int = Field(default=1, ge=1, le=5, description="Stream replicas: 1 for one server, 3 in production.")
    duplicate_window_s: float = Field(default=300.0, gt=0, description="A frame id published again this soon: one.")
    max_age_s: float = Field(default=3 * 86_400.0, gt=0, description="Frames older than this leave the stream.")
    ack_wait_s: float = Field(
        default=20.0, gt=0, description="Unacked this long: redelivered; a dead worker's frames wait this long."
    )
    max_ack_pending: int = Field(default=16, ge=1, le=10_000, description="Outstanding per partition; batch limit.")
    max_deliver: int = Field(default=5, ge=1, description="Attempts per frame before JetStream gives up on it.")
    request_timeout_s: float = Field(default=5.0, gt=0, description="Publish acknowledgement, settle, admin calls.")
    connect_timeout_s: float = Field(default=5.0, gt=0)
    reconnect_wait_s: float = Field(default=1.0, gt=0, description="Between reconnect attempts (for ever).")
