"""Instants from outside (filters, capture times) made safe for the store: aware, UTC, within what it can hold.

Why: a naive time, or one at the calendar's edge (0001-01-01T00:00+14:00 is in year 0 in UTC), otherwise
reaches the database driver and fails there as a 500. The rule everywhere: a time without an offset is in the
site's time zone (as the pages read it), and an instant outside 1970..9998 is refused by the caller.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9998, 12, 31, tzinfo=UTC)


def bounded(value: datetime, zone: tzinfo) -> datetime | None:
    """`value` as aware UTC (the site's `zone` when it has no offset); None when the store cannot hold it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    try:
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        return None
    return utc if EARLIEST <= utc <= LATEST else None
