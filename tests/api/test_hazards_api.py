"""Hazards end to end through the API (scripted detector): opening, evidence, routing, scope, lifecycle."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from tests.api.conftest import Harness
from tests.api.support import CAR, T0, open_hazard, push
from tests.support import detections, png_bytes


def test_parked_car_opens_one_hazard_with_evidence_and_recipients(harness: Harness) -> None:
    hazard_id = open_hazard(harness)
    assert [x["change"] for x in push(harness, 4, 360, CAR)["hazards"]] == ["updated"]
    detail = harness.client.get(f"/api/v1/hazards/{hazard_id}", headers=harness.headers("police")).json()
    assert detail["status"] == "open" and detail["zone_type"] == "fire_lane" and detail["category"] == "vehicle"
    assert detail["first_seen_at"] == T0.isoformat()
    assert detail["first_frame_id"] and detail["latest_frame_id"] != detail["first_frame_id"]
    assert {r["agency_id"] for r in detail["recipients"]} == {"pm-lanting", "ps-chengguan"}
    assert {e["kind"] for e in detail["evidence"]} == {"original", "annotated", "thumbnail"}
    for item in detail["evidence"]:
        response = harness.client.get(item["url"], headers=harness.headers("lanting"))
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-store"
        assert hashlib.sha256(response.content).hexdigest() == item["sha256"] == response.headers["x-content-sha256"]
    original = next(e for e in detail["evidence"] if e["kind"] == "original")
    assert original["sha256"] == hashlib.sha256(png_bytes(3)[0]).hexdigest()  # stored unaltered
    listing = harness.client.get("/api/v1/hazards", headers=harness.headers("county")).json()
    assert [i["id"] for i in listing["items"]] == [hazard_id] and listing["counts"] == {"open": 1}


def test_perimeter_road_goes_to_traffic_police(harness: Harness) -> None:
    kerb = ("truck", "vehicle", (20, 15, 40, 22))  # ground point y=22/48=0.46: kerb-road zone (0.3..0.5)
    for i, t in enumerate((0, 300, 600)):
        result = push(harness, 10 + i, t, kerb)
    hazard_id = result["hazards"][0]["hazard_id"]
    detail = harness.client.get(f"/api/v1/hazards/{hazard_id}", headers=harness.headers("admin")).json()
    assert detail["zone_type"] == "perimeter_road"
    assert {r["agency_id"] for r in detail["recipients"]} == {"tp-county", "pm-lanting"}


def test_other_property_company_sees_nothing_by_guessing_ids(harness: Harness) -> None:
    hazard_id = open_hazard(harness)
    other = harness.headers("huayuan")
    assert harness.client.get("/api/v1/hazards", headers=other).json()["items"] == []
    assert harness.client.get(f"/api/v1/hazards/{hazard_id}", headers=other).status_code == 404
    assert harness.client.get(f"/api/v1/hazards/{hazard_id}/evidence/original", headers=other).status_code == 404
    assert harness.client.post(f"/api/v1/hazards/{hazard_id}/acknowledge", headers=other).status_code == 404
    assert harness.client.get("/api/v1/cameras", headers=other).json()["items"][0]["compound"] == "huayuan"
    assert harness.client.get(f"/api/v1/hazards/{hazard_id}", headers=harness.headers("gateway")).status_code == 403


def test_lifecycle_actions_by_role_and_illegal_transitions(harness: Harness) -> None:
    hazard_id = open_hazard(harness)
    url = f"/api/v1/hazards/{hazard_id}"
    property_key, police = harness.headers("lanting"), harness.headers("police")
    assert (
        harness.client.post(f"{url}/dismiss", headers=property_key, json={"reason": "false_positive"}).status_code
        == 403
    )
    assert harness.client.post(f"{url}/dismiss", headers=police, json={}).status_code == 422
    assert (
        harness.client.post(f"{url}/acknowledge", headers=property_key, json={"note": "on it"}).json()["status"]
        == "acknowledged"
    )
    assert harness.client.post(f"{url}/acknowledge", headers=property_key).status_code == 409
    confirmed = harness.client.post(f"{url}/confirm", headers=police, json={"severity": "major"}).json()
    assert confirmed["confirmed"] is True and confirmed["severity"] == "major"
    done = harness.client.post(f"{url}/rectify", headers=property_key, json={"note": "car towed"}).json()
    assert done["status"] == "rectified" and done["closed_at"]
    assert [h["action"] for h in done["history"]] == ["opened", "acknowledged", "confirmed", "rectified"]
    assert done["history"][1]["actor"] == "property:pm-lanting"
    assert harness.client.post(f"{url}/dismiss", headers=police, json={"reason": "other"}).status_code == 409
    assert harness.client.get("/api/v1/hazards", headers=police, params={"status": "rectified"}).json()["counts"] == {
        "rectified": 1
    }


def test_car_leaving_clears_the_hazard(harness: Harness) -> None:
    hazard_id = open_hazard(harness)
    results = [push(harness, 20 + i, 300 + 30 * (i + 1)) for i in range(3)]  # empty lane, 3 frames over 90 s
    assert [x["change"] for r in results for x in r["hazards"]] == ["cleared"]
    detail = harness.client.get(f"/api/v1/hazards/{hazard_id}", headers=harness.headers("admin")).json()
    assert detail["status"] == "cleared" and detail["closed_at"]


def test_dwell_survives_a_restart(make_harness) -> None:
    first = make_harness()
    push(first, 1, 0, CAR)
    push(first, 2, 200, CAR)
    first.client.__exit__(None, None, None)
    second = make_harness()  # same database and data dir, new process state
    second.detector.register(png_bytes(3)[1], detections(CAR))
    assert [x["change"] for x in push(second, 3, 300, CAR)["hazards"]] == ["opened"]


def test_pagination_is_keyset_and_filters_work(harness: Harness) -> None:
    ids = []
    for n in range(3):  # three cars side by side, all parked past the dwell time
        x = 8 + n * 16
        car = ("car", "vehicle", (x, 30, x + 10, 45))
        ids.append(car)
    for i, t in enumerate((0, 300)):
        result = push(harness, 40 + i, t, *ids)
    assert len(result["hazards"]) == 3
    admin = harness.headers("admin")
    page1 = harness.client.get("/api/v1/hazards", headers=admin, params={"limit": 2}).json()
    page2 = harness.client.get(
        "/api/v1/hazards", headers=admin, params={"limit": 2, "cursor": page1["next_cursor"]}
    ).json()
    assert len(page1["items"]) == 2 and len(page2["items"]) == 1 and page2["next_cursor"] is None
    assert len({i["id"] for i in page1["items"] + page2["items"]}) == 3
    assert harness.client.get("/api/v1/hazards", headers=admin, params={"compound": "huayuan"}).json()["items"] == []
    since = (T0 + timedelta(seconds=1)).isoformat()
    assert len(harness.client.get("/api/v1/hazards", headers=admin, params={"since": since}).json()["items"]) == 3
