"""Lifts through the API: entries counted per lift and day, a hazard within seconds, the property company's
remote release (demo site camera lanting-b3-lift, scripted detector)."""

from __future__ import annotations

from datetime import timedelta

from tests.api.conftest import Harness
from tests.api.support import T0, open_hazard
from tests.support import detections, png_bytes

EBIKE = ("motorcycle", "two_wheeler", (10, 20, 50, 46))  # in lift-b3 (the lower three quarters of 64x48)
BICYCLE = ("bicycle", "two_wheeler", (10, 20, 50, 46))


def push_lift(h: Harness, seed: int, seconds: float, *objects) -> dict:
    body, image = png_bytes(seed)
    h.detector.register(image, detections(*objects))
    response = h.client.post(
        "/api/v1/cameras/lanting-b3-lift/frames",
        content=body,
        headers=h.headers("admin") | {"Content-Type": "image/png"},
        params={"captured_at": (T0 + timedelta(seconds=seconds)).isoformat()},
    )
    assert response.status_code == 201, response.text
    return response.json()


def ride(h: Harness, seed: int, start: float, seconds: tuple[float, ...], *objects) -> list[dict]:
    return [change for t in seconds for change in push_lift(h, seed + int(t), start + t, *objects)["hazards"]]


def test_entries_per_day_and_a_hazard_for_the_ebike_that_stayed(harness: Harness) -> None:
    h = harness
    first = ride(h, 100, 0, (0, 3, 6), EBIKE)  # stays: opens after the lift's 5 s
    assert [c["change"] for c in first] == ["entered", "opened"] and first[1]["zone_type"] == "elevator"
    cleared = ride(h, 150, 0, (20, 40, 80))  # an empty lift: gone
    assert [c["change"] for c in cleared] == ["cleared"]
    ride(h, 200, 600, (0, 2), EBIKE)  # leaves within seconds: an entry, no hazard
    ride(h, 300, 1200, (0, 3, 6, 9), BICYCLE)  # a pedal bicycle: not counted
    day = T0.astimezone(h.client.app.state.runtime.sites.current().zone).date()
    answer = h.client.get(
        "/api/v1/lifts/entries", params={"from": day.isoformat(), "to": day.isoformat()}, headers=h.headers("lanting")
    )
    assert answer.status_code == 200, answer.text
    assert [(d["zone"], d["entries"], d["hazards"]) for d in answer.json()["items"]] == [("lift-b3", 2, 1)]
    both = {"from": day.isoformat(), "to": day.isoformat()}
    other = h.client.get("/api/v1/lifts/entries", params=both, headers=h.headers("huayuan"))
    assert other.json()["items"] == []  # another company's compound has no lifts it may see
    too_long = h.client.get(
        "/api/v1/lifts/entries", params={"from": "2026-01-01", "to": "2026-12-31"}, headers=h.headers("admin")
    )
    assert too_long.status_code == 422 and "at most 92 days" in too_long.text


def test_the_property_company_releases_a_false_alarm_in_its_lift(harness: Harness) -> None:
    h = harness
    hazard_id = ride(h, 400, 0, (0, 3, 6), EBIKE)[1]["hazard_id"]
    assert h.client.post(f"/api/v1/hazards/{hazard_id}/release", headers=h.headers("police")).status_code == 403
    assert h.client.post(f"/api/v1/hazards/{hazard_id}/release", headers=h.headers("huayuan")).status_code == 404
    released = h.client.post(
        f"/api/v1/hazards/{hazard_id}/release", json={"note": "a stroller"}, headers=h.headers("lanting")
    )
    assert released.status_code == 200, released.text
    detail = released.json()
    assert detail["status"] == "dismissed"
    last = detail["history"][-1]
    assert last["action"] == "dismissed" and last["params"]["reason"] == "lift_release"
    assert last["params"]["text"] == "a stroller"
    again = h.client.post(f"/api/v1/hazards/{hazard_id}/release", headers=h.headers("lanting"))
    assert again.status_code == 409


def test_only_a_lift_alarm_can_be_released(harness: Harness) -> None:
    h = harness
    lane_hazard = open_hazard(h)
    refused = h.client.post(f"/api/v1/hazards/{lane_hazard}/release", headers=h.headers("lanting"))
    assert refused.status_code == 409 and "not in a lift" in refused.text
