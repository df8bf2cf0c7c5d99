"""Routing: the campaign's division of duties."""

from service.config.settings import DEMO_SITE
from service.config.site import load_site
from service.hazards.routing import recipients_for


def test_inside_compound_goes_to_property_company_and_police_station() -> None:
    site = load_site(DEMO_SITE)
    found = recipients_for(site, "huayuan", "fire_lane", "vehicle")
    assert {(r.agency_id, r.agency_kind) for r in found} == {
        ("pm-huayuan", "property_company"),
        ("ps-chengguan", "police_station"),
    }


def test_perimeter_road_goes_to_traffic_police() -> None:
    site = load_site(DEMO_SITE)
    assert {r.agency_id for r in recipients_for(site, "lanting", "perimeter_road", "vehicle")} == {
        "tp-county",
        "pm-lanting",
    }
    assert recipients_for(site, "nowhere", "fire_lane", "vehicle") == []
