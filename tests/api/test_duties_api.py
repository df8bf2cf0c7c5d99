"""Every camera hazard has a kind, a source, the unit that answers for it and deadlines from the division of
duties; the fire brigade's major grade lists it for the county's supervision (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from service.auth.keys import KeyCreationError, create_key
from tests.api.conftest import Harness
from tests.api.support import T0, open_hazard, push

BIKE = ("motorcycle", "two_wheeler", (20, 30, 40, 45))  # in lanting-b3-stair's stairwell zone


def fire_key(h: Harness) -> dict[str, str]:
    with h.client.app.state.runtime.db.session() as session:
        return {"Authorization": f"Bearer {create_key(session, 'fb', 'fire', 'fb-county')}"}


def test_a_camera_hazard_carries_its_kind_source_unit_and_deadlines(harness: Harness) -> None:
    hazard_id = open_hazard(harness)
    detail = harness.client.get(f"/api/v1/hazards/{hazard_id}", headers=harness.headers("police")).json()
    assert (detail["kind"], detail["source"], detail["responsible_agency_id"]) == (
        "vehicle_in_fire_lane",
        "camera",
        "pm-lanting",
    )
    opened = datetime.fromisoformat(detail["opened_at"])
    assert datetime.fromisoformat(detail["acknowledge_due_at"]) - opened == timedelta(minutes=30)
    assert datetime.fromisoformat(detail["rectify_due_at"]) - opened == timedelta(hours=24)
    assert {(r["agency_id"], r["reason"]) for r in detail["recipients"]} == {
        ("pm-lanting", "duty: rectifies"),
        ("ps-chengguan", "duty: supervises"),
    }
    assert detail["supervised"] is False and detail["location"] == ""


def bike_in_the_stairwell(h: Harness) -> int:
    for i, t in enumerate((0, 60, 120)):  # a stairwell's dwell is 120 s
        result = push(h, 40 + i, 1000 + t, BIKE, camera="lanting-b3-stair")
    return result["hazards"][0]["hazard_id"]


def test_hazards_filter_by_kind_and_source(harness: Harness) -> None:
    car, bike = open_hazard(harness), bike_in_the_stairwell(harness)

    def listing(**params: str) -> list[int]:
        response = harness.client.get("/api/v1/hazards", headers=harness.headers("county"), params=params)
        return [h["id"] for h in response.json()["items"]]

    assert listing(kind="ebike_indoor") == [bike]
    assert listing(kind="vehicle_in_fire_lane") == [car]
    assert sorted(listing(source="camera")) == sorted([car, bike]) and listing(source="resident") == []
    stair = harness.client.get(f"/api/v1/hazards/{bike}", headers=harness.headers("county")).json()
    assert datetime.fromisoformat(stair["opened_at"]) == T0 + timedelta(seconds=1120)


def test_the_fire_brigades_major_grade_puts_it_under_county_supervision(harness: Harness) -> None:
    by_police, by_fire = open_hazard(harness), bike_in_the_stairwell(harness)
    graded = harness.client.post(
        f"/api/v1/hazards/{by_police}/confirm", headers=harness.headers("police"), json={"severity": "major"}
    ).json()
    assert graded["severity"] == "major" and graded["supervised"] is False  # only the fire brigade lists it
    fire = fire_key(harness)
    listed = harness.client.post(f"/api/v1/hazards/{by_fire}/confirm", headers=fire, json={"severity": "major"})
    assert listed.status_code == 200 and listed.json()["supervised"] is True
    assert [e["action"] for e in listed.json()["history"]][-2:] == ["confirmed", "supervised"]
    assert harness.client.get(f"/api/v1/hazards/{by_police}", headers=fire).status_code == 200  # county-wide reader
    refused = harness.client.post(f"/api/v1/hazards/{by_fire}/acknowledge", headers=fire)
    assert refused.status_code == 403  # the brigade confirms and grades; the compound acknowledges


def test_a_bureau_sees_and_works_only_what_is_routed_to_it(harness: Harness) -> None:
    """The traffic police answer for parking outside the gate, and see nothing else of the compound."""
    car_in_lane = open_hazard(harness)
    for i, t in enumerate((0, 300, 600)):  # the perimeter road's dwell is 600 s
        result = push(harness, 60 + i, 3000 + t, ("truck", "vehicle", (20, 15, 40, 22)))
    outside = result["hazards"][0]["hazard_id"]
    with harness.client.app.state.runtime.db.session() as session:
        traffic = {"Authorization": f"Bearer {create_key(session, 'tp', 'bureau', 'tp-county')}"}
    listed = harness.client.get("/api/v1/hazards", headers=traffic).json()
    assert [h["id"] for h in listed["items"]] == [outside] and listed["counts"] == {"open": 1}
    assert harness.client.get(f"/api/v1/hazards/{car_in_lane}", headers=traffic).status_code == 404
    detail = harness.client.get(f"/api/v1/hazards/{outside}", headers=traffic).json()
    assert (detail["kind"], detail["responsible_agency_id"]) == ("perimeter_parking", "tp-county")
    acknowledged = harness.client.post(f"/api/v1/hazards/{outside}/acknowledge", headers=traffic)
    assert acknowledged.json()["status"] == "acknowledged"
    runtime = harness.client.app.state.runtime
    with runtime.db.session() as session, pytest.raises(KeyCreationError, match="needs a traffic_police or"):
        create_key(session, "wrong", "bureau", "pm-lanting")
