"""Settings of the web pages (environment, prefix CLEARWAY_WEB_), kept apart from the service's own."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from service.locale import LANGUAGES

__all__ = ["LANGUAGES", "WebSettings"]


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_WEB_", env_file=None, extra="ignore")

    default_language: Literal["zh", "en"] = Field(default="zh", description="Until a user picks one (demo: zh).")
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto", description="auto: Secure cookies except on plain-HTTP loopback (development, tests)."
    )
    page_size: int = Field(default=50, ge=1, le=200)
    online_window_s: float = Field(default=600.0, gt=0, description="A camera is online if it sent a frame since.")
