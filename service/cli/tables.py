"""Plain-text tables for `clearway ... list` commands, and times in the site's zone with its offset."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from service.config import clock


def site_time(value: datetime | None, zone: ZoneInfo) -> str:
    """'2026-05-01 08:00 +08:00' in the site's zone, '-' for none."""
    return clock.site_time(value, zone, empty="-")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns two spaces apart; an empty cell shows '-' so columns stay readable."""
    cells = [list(headers)] + [[str(c) if str(c) else "-" for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells)
