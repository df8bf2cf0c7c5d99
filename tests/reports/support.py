"""A campaign's hazards seeded through the product's hazard writer at known local times, for the report tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from service.config.site import Site
from service.hazards.routing import assign
from service.store.db import Database
from service.store.delivery_models import HazardEscalation
from service.store.hazard_writer import HazardWriter, NewHazard

LOCAL = ZoneInfo("Asia/Shanghai")


def local(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=LOCAL)


@dataclass(frozen=True)
class Seed:
    compound: str
    kind: str
    source: str
    opened: datetime
    due: datetime
    closed: datetime | None = None
    status: str = "open"  # the status it ends in: rectified, cleared, dismissed or open
    escalated: datetime | None = None
    supervised: bool = False


class Bed(Protocol):
    """A delivery test bed, or the runtime of an app under test (its site from site())."""

    db: Database
    writer: HazardWriter


def seed(bed: Bed, site: Site, seeds: list[Seed]) -> list[int]:
    """Each hazard opened, then closed or escalated as told, with the store's times set to the seed's."""
    ids = []
    for number, item in enumerate(seeds):
        new = NewHazard(
            engine_key=f"seed:{number}",
            kind=item.kind,
            source=item.source,
            camera_id=None,
            compound_id=item.compound,
            zone_key="",
            zone_type="",
            category="",
            class_name="",
            first_seen_at=item.opened,
            opened_at=item.opened,
            location="Building 3",
        )
        with bed.db.session() as session:
            hazard = bed.writer.open(session, new, assign(site, item.compound, item.kind, item.opened), "seeded")
            hazard.rectify_due_at = item.due
            hazard.supervised = item.supervised
            hazard.severity = "major" if item.supervised else "minor"
            if item.status != "open":
                bed.writer.transition(session, hazard, item.status, "property:seed", "done")
                hazard.closed_at = item.closed
            if item.escalated is not None:
                session.add(
                    HazardEscalation(
                        hazard_id=hazard.id,
                        stage="rectify",
                        level=1,
                        due_at=item.due,
                        escalated_at=item.escalated,
                        agency_ids=["ps-chengguan"],
                    )
                )
            ids.append(hazard.id)
    return ids


# Two campaign weeks of the demo site: 2026-W45 (2 Nov 00:00 to Fri 6 Nov 17:00) and 2026-W46 (to 13 Nov 17:00).
TWO_WEEKS = [
    Seed(
        "lanting", "vehicle_in_fire_lane", "camera", local(11, 3, 10), local(11, 4, 10), local(11, 3, 20), "rectified"
    ),
    Seed("huayuan", "stairwell_storage", "inspection", local(11, 4, 9), local(11, 5, 9), local(11, 10, 9), "rectified"),
    Seed(
        "lanting",
        "blocked_exit",
        "resident",
        local(11, 5, 12),
        local(11, 6, 12),
        escalated=local(11, 6, 13),
        supervised=True,
    ),
    Seed("huayuan", "stairwell_storage", "camera", local(11, 4, 11), local(11, 5, 11), local(11, 4, 12), "dismissed"),
    Seed("huayuan", "vehicle_in_fire_lane", "camera", local(11, 9, 8), local(11, 10, 8), local(11, 9, 12), "cleared"),
    Seed("lanting", "ebike_indoor", "self_inspection", local(11, 12, 10), local(11, 20, 10)),
]
