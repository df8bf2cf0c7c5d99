"""Process settings for residents' reports through Open311 (env prefix CLEARWAY_REPORTS_).

The form is public (no key, no login), so it is limited instead: per client address and per compound, in a
sliding window, counted in this process. A refused report is answered 429 with Retry-After; nothing is kept.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_REPORTS_", env_file=None, extra="ignore")

    window_s: float = Field(default=3600.0, gt=0, description="The sliding window both limits count in.")
    per_client: int = Field(default=5, ge=1, description="Reports one client address may file per window.")
    per_compound: int = Field(default=30, ge=1, description="Reports one compound may receive per window.")
    max_description: int = Field(default=2000, ge=10, le=20000, description="Characters in a description.")
    max_media_bytes: int = Field(default=10 * 1024 * 1024, gt=0, description="A photo's size (JPEG or PNG).")
    list_limit: int = Field(default=100, ge=1, le=1000, description="Requests one GET requests.json lists.")
