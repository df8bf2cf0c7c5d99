"""The campaign's division of duties: which kinds of hazard there are, where they come from, who rectifies and
who enforces each, and by when (the county's plan, 四、职责分工; every default overridable in the site file).

Why one table: a hazard found by a camera, an inspector or a resident is the same hazard for the ledger, the
review desk, delivery and escalation; its kind decides who owes what, whatever its source.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class AgencyKind(StrEnum):
    property_company = "property_company"
    police_station = "police_station"
    traffic_police = "traffic_police"
    fire_brigade = "fire_brigade"
    county_office = "county_office"
    enforcement_bureau = "enforcement_bureau"  # 综合执法局
    housing_bureau = "housing_bureau"  # 住建局
    township = "township"  # 乡镇 / 街道
    emergency_bureau = "emergency_bureau"  # 应急局


COMPOUND_BOUND = (AgencyKind.property_company, AgencyKind.police_station, AgencyKind.township)
"""Kinds that answer for their own compounds only (the compound names which one); the others are county-wide."""


class ZoneType(StrEnum):
    fire_lane = "fire_lane"
    stairwell = "stairwell"
    evacuation_route = "evacuation_route"
    safety_exit = "safety_exit"
    perimeter_road = "perimeter_road"
    elevator = "elevator"  # a lift car (电梯): e-bikes, seconds not minutes (docs/lifts.md)


class HazardSource(StrEnum):
    camera = "camera"
    self_inspection = "self_inspection"  # the property company's own round (自查)
    inspection = "inspection"  # police, fire brigade, township, county (督查)
    resident = "resident"  # a report through Open311 (举报投诉)


class HazardKind(StrEnum):
    vehicle_in_fire_lane = "vehicle_in_fire_lane"
    lane_obstruction = "lane_obstruction"  # objects piled in a fire lane (占道堆物): police and enforcement bureau
    perimeter_parking = "perimeter_parking"
    illegal_structure = "illegal_structure"
    blocked_exit = "blocked_exit"
    stairwell_storage = "stairwell_storage"
    ebike_indoor = "ebike_indoor"
    hydrant_blocked = "hydrant_blocked"
    missing_markings = "missing_markings"
    charging_area_missing = "charging_area_missing"
    garage_misuse = "garage_misuse"
    management_failure = "management_failure"
    camera_offline = "camera_offline"  # a blind camera hides obstructions: the property company restores it


class Duty(BaseModel):
    """Who owes what for one kind of hazard, and by when (hours from the moment it is recorded)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rectifies: tuple[AgencyKind, ...] = Field(description="who must put it right (the first one answers for it)")
    supervises: tuple[AgencyKind, ...] = Field(default=(), description="who enforces or supervises")
    informs: tuple[AgencyKind, ...] = Field(default=(), description="told, owing nothing")
    acknowledge_hours: float = Field(default=24, gt=0, le=24 * 365)
    rectify_hours: float = Field(default=7 * 24, gt=0, le=24 * 365)


def _duty(
    rectifies: tuple[AgencyKind, ...],
    supervises: tuple[AgencyKind, ...],
    acknowledge_hours: float,
    rectify_hours: float,
    informs: tuple[AgencyKind, ...] = (),
) -> Duty:
    return Duty(
        rectifies=rectifies,
        supervises=supervises,
        informs=informs,
        acknowledge_hours=acknowledge_hours,
        rectify_hours=rectify_hours,
    )


DAY, MONTH = 24, 30 * 24
P, PS, TP, EB, HB, TS = (
    AgencyKind.property_company,
    AgencyKind.police_station,
    AgencyKind.traffic_police,
    AgencyKind.enforcement_bureau,
    AgencyKind.housing_bureau,
    AgencyKind.township,
)
DEFAULT_DUTIES: dict[HazardKind, Duty] = {
    HazardKind.vehicle_in_fire_lane: _duty((P,), (PS,), 0.5, DAY),
    HazardKind.lane_obstruction: _duty((P,), (PS, EB), 0.5, DAY),
    HazardKind.perimeter_parking: _duty((), (TP,), 0.25, 2, informs=(P,)),
    HazardKind.illegal_structure: _duty((P,), (EB, TS), 24, MONTH),
    HazardKind.blocked_exit: _duty((P,), (PS,), 0.25, 4),
    HazardKind.stairwell_storage: _duty((P,), (PS,), 0.5, 12),
    HazardKind.ebike_indoor: _duty((P,), (PS,), 0.5, 12),
    HazardKind.hydrant_blocked: _duty((P,), (PS,), 2, 3 * DAY),
    HazardKind.missing_markings: _duty((P,), (HB,), 48, MONTH),
    HazardKind.charging_area_missing: _duty((P,), (HB,), 48, MONTH),
    HazardKind.garage_misuse: _duty((P,), (EB,), 48, MONTH),
    HazardKind.management_failure: _duty((P,), (HB,), 48, 14 * DAY),
    HazardKind.camera_offline: _duty((P,), (), 4, 48),
}
"""Defaults from the campaign plan's division of duties. The plan names no deadlines (only "by 30 June"), so
they follow how urgent the hazard is: what a camera sees in a lane, exit or stairwell keeps the escalation
deadlines the service always had (acknowledge within 15-30 minutes, clear within hours); works on markings,
structures and management within weeks."""

CAMERA_KINDS: dict[tuple[ZoneType, str], HazardKind] = {
    (ZoneType.fire_lane, "vehicle"): HazardKind.vehicle_in_fire_lane,
    (ZoneType.fire_lane, "two_wheeler"): HazardKind.vehicle_in_fire_lane,
    (ZoneType.fire_lane, "clutter"): HazardKind.lane_obstruction,
    (ZoneType.stairwell, "vehicle"): HazardKind.stairwell_storage,
    (ZoneType.stairwell, "two_wheeler"): HazardKind.ebike_indoor,
    (ZoneType.stairwell, "clutter"): HazardKind.stairwell_storage,
    (ZoneType.evacuation_route, "vehicle"): HazardKind.blocked_exit,
    (ZoneType.evacuation_route, "two_wheeler"): HazardKind.ebike_indoor,
    (ZoneType.evacuation_route, "clutter"): HazardKind.blocked_exit,
    (ZoneType.safety_exit, "vehicle"): HazardKind.blocked_exit,
    (ZoneType.safety_exit, "two_wheeler"): HazardKind.blocked_exit,
    (ZoneType.safety_exit, "clutter"): HazardKind.blocked_exit,
    (ZoneType.perimeter_road, "vehicle"): HazardKind.perimeter_parking,
    (ZoneType.perimeter_road, "two_wheeler"): HazardKind.perimeter_parking,
    (ZoneType.perimeter_road, "clutter"): HazardKind.lane_obstruction,
    (ZoneType.elevator, "two_wheeler"): HazardKind.ebike_indoor,
    (ZoneType.elevator, "vehicle"): HazardKind.ebike_indoor,
    (ZoneType.elevator, "clutter"): HazardKind.stairwell_storage,
}
"""What a camera's finding is, by the zone it is in and what the detector saw."""


def camera_kind(zone_type: str, category: str) -> HazardKind:
    return CAMERA_KINDS.get((ZoneType(zone_type), category), HazardKind.lane_obstruction)
