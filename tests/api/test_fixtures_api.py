"""Fixtures through the API: a reviewer marks a hazard's object as permanent, the same object in the same place
is then ignored (and said so) until the mark ends; an undo takes the mark back with the dismissal."""

from __future__ import annotations

from tests.api.conftest import Harness
from tests.api.support import CAR, open_hazard, push

ELSEWHERE = ("car", "vehicle", (44, 30, 60, 45))  # also in the fire lane, not overlapping the kiosk


def changes(answers: list[dict]) -> list[str]:
    return [c["change"] for answer in answers for c in answer["hazards"]]


def test_a_marked_fixture_is_ignored_where_it_stands_until_the_mark_ends(harness: Harness) -> None:
    h = harness
    hazard_id = open_hazard(h)
    assert h.client.post(f"/api/v1/hazards/{hazard_id}/fixture", headers=h.headers("lanting")).status_code == 403
    marked = h.client.post(
        f"/api/v1/hazards/{hazard_id}/fixture", json={"days": 30, "note": "kiosk"}, headers=h.headers("police")
    )
    assert marked.status_code == 201, marked.text
    fixture = marked.json()
    assert fixture["category"] == "vehicle" and fixture["note"] == "kiosk" and fixture["hazard_id"] == hazard_id
    assert fixture["box"] == [round(20 / 64, 5), round(30 / 48, 5), round(40 / 64, 5), round(45 / 48, 5)]
    detail = h.client.get(f"/api/v1/hazards/{hazard_id}", headers=h.headers("admin")).json()
    assert detail["status"] == "dismissed" and detail["history"][-1]["params"]["reason"] == "fixture"

    answers = [push(h, 20 + n, 400 + 150 * n, CAR) for n in range(4)]  # far past the dwell
    assert "opened" not in changes(answers)
    assert answers[-1]["detections"][0]["fixture"] == fixture["id"] and answers[-1]["detections"][0]["zones"] == []

    listed = h.client.get("/api/v1/cameras/lanting-gate/fixtures", headers=h.headers("lanting"))
    assert [f["id"] for f in listed.json()["items"]] == [fixture["id"]]
    assert h.client.get("/api/v1/cameras/lanting-gate/fixtures", headers=h.headers("huayuan")).status_code == 404

    elsewhere = [push(h, 40 + n, 1000 + 150 * n, CAR, ELSEWHERE) for n in range(3)]
    assert changes(elsewhere) == ["opened"]  # another car in the lane is a hazard as ever

    assert h.client.delete(f"/api/v1/fixtures/{fixture['id']}", headers=h.headers("lanting")).status_code == 403
    ended = h.client.delete(f"/api/v1/fixtures/{fixture['id']}", headers=h.headers("police"))
    assert ended.status_code == 200
    assert h.client.delete(f"/api/v1/fixtures/{fixture['id']}", headers=h.headers("police")).status_code == 409
    assert h.client.get("/api/v1/cameras/lanting-gate/fixtures", headers=h.headers("police")).json()["items"] == []
    again = [push(h, 60 + n, 1600 + 150 * n, CAR, ELSEWHERE) for n in range(3)]
    assert changes(again).count("opened") == 1  # the kiosk alerts again after its dwell


def test_undoing_the_fixture_dismissal_ends_the_mark(harness: Harness) -> None:
    h = harness
    hazard_id = open_hazard(h)
    fixture = h.client.post(f"/api/v1/hazards/{hazard_id}/fixture", headers=h.headers("police")).json()
    undone = h.client.post(f"/api/v1/hazards/{hazard_id}/undo", headers=h.headers("police"))
    assert undone.status_code == 200, undone.text
    assert undone.json()["status"] == "open"
    assert h.client.get("/api/v1/cameras/lanting-gate/fixtures", headers=h.headers("police")).json()["items"] == []
    assert h.client.delete(f"/api/v1/fixtures/{fixture['id']}", headers=h.headers("police")).status_code == 409


def test_a_reported_hazard_cannot_be_a_fixture_and_bad_marks_are_refused(harness: Harness) -> None:
    h = harness
    hazard_id = open_hazard(h)
    too_long = h.client.post(f"/api/v1/hazards/{hazard_id}/fixture", json={"days": 9999}, headers=h.headers("police"))
    assert too_long.status_code == 422
    assert h.client.post("/api/v1/hazards/999999/fixture", headers=h.headers("police")).status_code == 404
