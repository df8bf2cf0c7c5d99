"""The cameras page's lift card: entries per lift over the last week, as numbers and as small bars."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from service.actions.lifts import LiftDay, lift_days
from service.auth.keys import Principal
from service.config.site import Site

WEEK = 7


@dataclass
class LiftRow:
    camera_id: str
    zone: str
    name: str
    compound_id: str
    days: list[LiftDay] = field(default_factory=list)

    @property
    def entries(self) -> int:
        return sum(d.entries for d in self.days)

    @property
    def hazards(self) -> int:
        return sum(d.hazards for d in self.days)


def lift_rows(session: Session, who: Principal, site: Site, today: date) -> tuple[list[LiftRow], int]:
    """One row per visible lift with its last `WEEK` days, and the largest day's count (the bars' scale)."""
    rows: dict[tuple[str, str], LiftRow] = {}
    for day in lift_days(session, who, site, today - timedelta(days=WEEK - 1), today):
        key = (day.camera_id, day.zone)
        rows.setdefault(key, LiftRow(day.camera_id, day.zone, day.name, day.compound_id)).days.append(day)
    peak = max((d.entries for row in rows.values() for d in row.days), default=0)
    return list(rows.values()), max(peak, 1)
