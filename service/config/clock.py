"""The one way a time is written for people: the site's wall clock with its UTC offset.

Why one function: pages, evidence captions, messages, digests and the command line all show times, and a
reader must never have to guess the zone (`2026-12-02 10:15 +08:00`, with seconds where they matter).
"""

from __future__ import annotations

from datetime import datetime, tzinfo


def site_time(value: datetime | None, zone: tzinfo, seconds: bool = False, empty: str = "") -> str:
    """`value` in `zone` with its offset; `empty` when there is no time."""
    if value is None:
        return empty
    local = value.astimezone(zone)
    offset = local.strftime("%z")
    return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + f" {offset[:3]}:{offset[3:]}"


def utc_offset(value: datetime, zone: tzinfo) -> str:
    """`+08:00`: the zone's offset at that instant."""
    offset = value.astimezone(zone).strftime("%z")
    return f"{offset[:3]}:{offset[3:]}"
