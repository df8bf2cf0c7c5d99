"""A filter's time from the API: without an offset it is the site's local time; outside 1970..9998 a 422."""

from __future__ import annotations

from datetime import datetime, tzinfo

from service.actions.errors import Invalid
from service.store.instants import bounded


def filter_instant(value: datetime | None, zone: tzinfo, name: str) -> datetime | None:
    if value is None:
        return None
    found = bounded(value, zone)
    if found is None:
        raise Invalid(f"{name} {value.isoformat()} is not a time the service can hold (1970 to 9998)", "bad_time")
    return found
