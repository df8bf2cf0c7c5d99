"""Routing: the campaign's division of duties, and the site's own routing rules for camera hazards."""

from datetime import UTC, datetime, timedelta

import yaml

from service.config.duties import DEFAULT_DUTIES, HazardKind, camera_kind
from service.config.settings import DEMO_SITE
from service.config.site import load_site, parse_site
from service.hazards.routing import assign

T = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def recipients(site, compound: str, zone_type: str, category: str) -> set[tuple[str, str]]:
    kind = camera_kind(zone_type, category)
    return {(r.agency_id, r.agency_kind) for r in assign(site, compound, kind, T, zone_type, category).recipients}


def test_inside_compound_goes_to_property_company_and_police_station() -> None:
    site = load_site(DEMO_SITE)
    assert recipients(site, "huayuan", "fire_lane", "vehicle") == {
        ("pm-huayuan", "property_company"),
        ("ps-chengguan", "police_station"),
    }


def test_perimeter_road_goes_to_traffic_police() -> None:
    site = load_site(DEMO_SITE)
    assert {a for a, _ in recipients(site, "lanting", "perimeter_road", "vehicle")} == {"tp-county", "pm-lanting"}
    assignment = assign(site, "lanting", "perimeter_parking", T)
    assert assignment.responsible_agency_id == "tp-county"  # nobody in the compound rectifies: the enforcer answers
    assert assign(site, "nowhere", "vehicle_in_fire_lane", T).recipients == []


def test_every_kind_reaches_the_units_its_duty_names_with_its_deadlines() -> None:
    site = load_site(DEMO_SITE)
    for kind, duty in DEFAULT_DUTIES.items():
        assignment = assign(site, "lanting", kind, T)
        kinds = {r.agency_kind for r in assignment.recipients}
        assert kinds == {k.value for k in (*duty.rectifies, *duty.supervises, *duty.informs)}, kind
        assert assignment.acknowledge_due_at == T + timedelta(hours=duty.acknowledge_hours)
        assert assignment.rectify_due_at == T + timedelta(hours=duty.rectify_hours)
    structure = assign(site, "lanting", HazardKind.illegal_structure, T)
    assert {r.agency_id for r in structure.recipients} == {"pm-lanting", "eb-county", "ts-chengguan"}
    assert {r.agency_id for r in assign(site, "huayuan", HazardKind.missing_markings, T).recipients} == {
        "pm-huayuan",
        "hb-county",
    }


def test_a_compound_without_a_property_company_is_its_townships() -> None:
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    data["compounds"].append(
        {"id": "old-town", "name": "老街", "police_station": "ps-chengguan", "township": "ts-chengguan"}
    )
    site = parse_site(data)
    assignment = assign(site, "old-town", HazardKind.stairwell_storage, T)
    assert assignment.responsible_agency_id == "ts-chengguan"
    assert {(r.agency_id, r.reason) for r in assignment.recipients} == {
        ("ts-chengguan", "duty: rectifies"),
        ("ps-chengguan", "duty: supervises"),
    }


def test_the_site_file_overrides_a_duty_and_routes_camera_hazards_by_rule() -> None:
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    data["duties"] = {"hydrant_blocked": {"rectifies": ["property_company"], "supervises": ["fire_brigade"]}}
    data["routing"] = [{"zone_type": "stairwell", "agency_kinds": ["property_company"]}]
    site = parse_site(data)
    assert {r.agency_id for r in assign(site, "lanting", "hydrant_blocked", T).recipients} == {
        "pm-lanting",
        "fb-county",
    }
    assert recipients(site, "lanting", "stairwell", "two_wheeler") == {("pm-lanting", "property_company")}
    assert recipients(site, "lanting", "fire_lane", "vehicle") == {
        ("pm-lanting", "property_company"),
        ("ps-chengguan", "police_station"),
    }
