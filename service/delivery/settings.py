"""Process settings for delivery (env prefix CLEARWAY_DELIVERY_, plus CLEARWAY_PUBLIC_URL).

Where messages go is the site file's business; how hard and how often the dispatcher tries is set here.
"""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class DeliverySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_DELIVERY_", env_file=None, extra="ignore")

    public_url: str = Field(
        default="http://localhost:8000",
        validation_alias=AliasChoices("public_url", "CLEARWAY_PUBLIC_URL", "CLEARWAY_DELIVERY_PUBLIC_URL"),
        description="Base URL receivers use for evidence and hazard links (the API, behind its auth).",
    )
    background: bool = Field(default=True, description="Run the dispatcher and escalation threads in-process.")
    poll_interval_s: float = Field(default=1.0, gt=0, le=60, description="Idle wait; commits wake it sooner.")
    batch_size: int = Field(default=100, ge=1, le=5000)
    concurrency: int = Field(default=4, ge=1, le=64, description="Sends in flight at once.")
    lease_s: float = Field(default=120.0, gt=0, description="A claimed delivery is retried after this if not marked.")
    backoff_base_s: float = Field(default=5.0, gt=0)
    backoff_max_s: float = Field(default=900.0, gt=0)
    max_age_s: float = Field(default=24 * 3600.0, gt=0, description="Then a failing delivery is dead.")
    escalation_interval_s: float = Field(default=30.0, gt=0, le=3600)
    reports: bool = Field(default=True, description="Make and send the campaign reports on schedule.")
    report_interval_s: float = Field(default=60.0, gt=0, le=3600, description="How often due reports are checked.")
