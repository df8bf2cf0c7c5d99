"""Inspections on site through the API, on SQLite and PostgreSQL: a real photo recorded as a hazard, routed by
its kind to the right agencies with its deadlines; fixed on the spot; the model's proposal; every refusal a 4xx
that stores nothing; roles and isolation between compounds."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from service.auth.keys import create_key
from tests.api.conftest import Harness
from tests.intake.support import BUS_BOX, bus_jpg, decoded, inspect, photo_png, see_bus, stored
from tests.support import detections


def key(h: Harness, role: str, agency: str | None = None) -> dict[str, str]:
    with h.client.app.state.runtime.db.session() as session:
        return {"Authorization": f"Bearer {create_key(session, role, role, agency)}"}


def test_an_inspection_with_a_real_photo_is_a_hazard_with_its_evidence(harness: Harness) -> None:
    see_bus(harness)
    proposal = harness.client.post(
        "/api/v1/hazards/propose",
        files={"photo": ("bus.jpg", bus_jpg(), "image/jpeg")},
        headers=harness.headers("police"),
    )
    assert proposal.status_code == 200, proposal.text
    body = proposal.json()
    assert body["kind"] == "vehicle_in_fire_lane"
    assert (body["width"], body["height"]) == (810, 1080)
    assert [b["class_name"] for b in body["boxes"]] == ["bus"]  # people are no hazard
    boxes = [b["box"] for b in body["boxes"]]

    answer = inspect(
        harness,
        "police",
        kind=body["kind"],
        boxes=json.dumps(boxes),
        description="Coach parked across the lane since the morning",
        camera="lanting-gate",
        zone="fire-lane-north",
    )
    assert answer.status_code == 201, answer.text
    hazard = answer.json()
    assert (hazard["kind"], hazard["source"], hazard["status"]) == ("vehicle_in_fire_lane", "inspection", "open")
    assert (hazard["compound_id"], hazard["camera_id"], hazard["zone"]) == (
        "lanting",
        "lanting-gate",
        "fire-lane-north",
    )
    assert hazard["zone_type"] == "fire_lane" and hazard["category"] == "vehicle"
    assert hazard["location"] == "Building 3, north gate"
    assert hazard["description"] == "Coach parked across the lane since the morning"
    assert hazard["box"] == [float(v) for v in BUS_BOX]
    assert [e["kind"] for e in hazard["evidence"]] == ["original", "annotated", "thumbnail"]
    original = harness.client.get(hazard["evidence"][0]["url"], headers=harness.headers("lanting"))
    assert original.status_code == 200 and original.content == bus_jpg()  # the photo exactly as taken
    annotated = harness.client.get(hazard["evidence"][1]["url"], headers=harness.headers("lanting"))
    assert annotated.headers["content-type"] == "image/jpeg"
    assert decoded(annotated.content).shape == decoded(bus_jpg()).shape
    assert hazard["history"][0]["action"] == "opened" and "police:ps" in hazard["history"][0]["note"]
    listed = harness.client.get("/api/v1/hazards", params={"source": "inspection"}, headers=harness.headers("county"))
    assert [h["id"] for h in listed.json()["items"]] == [hazard["id"]]
    audit_rows = _audit(harness)
    assert ("police:ps", "hazard.inspection", str(hazard["id"])) in audit_rows


def _audit(h: Harness) -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from service.store.auth_models import AuditEntry

    with h.client.app.state.runtime.db.session() as session:
        return [(a.actor, a.action, a.object_id) for a in session.scalars(select(AuditEntry))]


@pytest.mark.parametrize(
    ("kind", "recipients", "unit"),
    [
        ("illegal_structure", {"pm-lanting", "eb-county", "ts-chengguan"}, "pm-lanting"),
        ("missing_markings", {"pm-lanting", "hb-county"}, "pm-lanting"),
        ("blocked_exit", {"pm-lanting", "ps-chengguan"}, "pm-lanting"),
        ("perimeter_parking", {"tp-county", "pm-lanting"}, "tp-county"),
    ],
)
def test_an_inspection_is_routed_by_its_kind(harness: Harness, kind: str, recipients: set[str], unit: str) -> None:
    answer = inspect(harness, "county", kind=kind)
    assert answer.status_code == 201, answer.text
    hazard = answer.json()
    assert {r["agency_id"] for r in hazard["recipients"]} == recipients
    assert hazard["responsible_agency_id"] == unit
    duty = harness.client.app.state.runtime.sites.current().duty(kind)  # the division of duties' deadlines
    opened = datetime.fromisoformat(hazard["opened_at"])
    assert datetime.fromisoformat(hazard["acknowledge_due_at"]) - opened == timedelta(hours=duty.acknowledge_hours)
    assert datetime.fromisoformat(hazard["rectify_due_at"]) - opened == timedelta(hours=duty.rectify_hours)
    assert hazard["source"] == "inspection" and hazard["zone"] == "" and hazard["camera_id"] is None
    if kind in ("illegal_structure", "missing_markings"):  # works on the structure: weeks, not hours
        assert datetime.fromisoformat(hazard["rectify_due_at"]) - opened == timedelta(days=30)


def test_a_property_companys_round_is_a_self_inspection_with_all_its_photos(harness: Harness) -> None:
    extra = photo_png(7)
    answer = inspect(harness, "lanting", photos=[bus_jpg(), extra], kind="stairwell_storage", location="B3 stair")
    assert answer.status_code == 201, answer.text
    hazard = answer.json()
    assert hazard["source"] == "self_inspection"
    assert [e["kind"] for e in hazard["evidence"]] == ["original", "annotated", "thumbnail", "photo-2"]
    second = harness.client.get(hazard["evidence"][3]["url"], headers=harness.headers("lanting"))
    assert second.content == extra
    fire = inspect(harness, "", headers=key(harness, "fire", "fb-county"), kind="hydrant_blocked", compound="huayuan")
    assert fire.status_code == 201 and fire.json()["source"] == "inspection"


def test_fixed_on_the_spot_is_stored_rectified_with_its_after_photo(harness: Harness) -> None:
    after = photo_png(9)
    answer = inspect(harness, "lanting", after=after, fixed_on_the_spot="true", kind="ebike_indoor")
    assert answer.status_code == 201, answer.text
    hazard = answer.json()
    assert hazard["status"] == "rectified" and hazard["closed_at"] is not None
    assert [e["kind"] for e in hazard["evidence"]] == ["original", "annotated", "thumbnail", "after-1"]
    kept = harness.client.get(hazard["evidence"][3]["url"], headers=harness.headers("lanting"))
    assert kept.content == after
    actions = [(e["action"], e["to"]) for e in hazard["history"]]
    assert actions == [("opened", "open"), ("after_photo", None), ("rectified", "rectified")]
    assert hazard["history"][-1]["actor"] == "property:pm-lanting"
    listed = harness.client.get("/api/v1/hazards", params={"status": "rectified"}, headers=harness.headers("lanting"))
    assert [h["id"] for h in listed.json()["items"]] == [hazard["id"]]  # still in the ledger


def test_the_model_proposes_a_kind_from_what_it_sees(harness: Harness) -> None:
    bike, clutter, empty = photo_png(11), photo_png(12), photo_png(13)
    harness.detector.register(decoded(bike), detections(("bicycle", "two_wheeler", (10, 10, 60, 80))))
    harness.detector.register(decoded(clutter), detections(("box", "clutter", (5, 5, 50, 50))))

    def proposed(photo: bytes, **fields: str) -> str | None:
        answer = harness.client.post(
            "/api/v1/hazards/propose",
            data=fields,
            files={"photo": ("p.png", photo, "image/png")},
            headers=harness.headers("lanting"),
        )
        assert answer.status_code == 200, answer.text
        return answer.json()["kind"]

    assert proposed(bike) == "ebike_indoor"
    assert proposed(bike, zone_type="fire_lane") == "vehicle_in_fire_lane"
    assert proposed(clutter) == "lane_obstruction"
    assert proposed(clutter, zone_type="stairwell") == "stairwell_storage"
    assert proposed(clutter, zone_type="safety_exit") == "blocked_exit"
    assert proposed(empty) is None
    refused = harness.client.post(
        "/api/v1/hazards/propose", files={"photo": ("x.txt", b"hello", "text/plain")}, headers=harness.headers("police")
    )
    assert refused.status_code == 422 and refused.json()["detail"]["reason"] == "not_an_image"
    gateway = harness.client.post(
        "/api/v1/hazards/propose", files={"photo": ("p.png", bike, "image/png")}, headers=harness.headers("gateway")
    )
    assert gateway.status_code == 403
    assert stored(harness) == (0, 0)


REFUSALS = {
    "bad kind": ({"kind": "alien_landing"}, 422, "bad_kind"),
    "camera offline is the system's": ({"kind": "camera_offline"}, 422, "bad_kind"),
    "unknown compound": ({"compound": "atlantis"}, 404, "unknown_compound"),
    "camera of another compound": ({"camera": "huayuan-lane"}, 422, "bad_camera"),
    "zone of another camera": ({"camera": "lanting-gate", "zone": "stair-b3"}, 422, "bad_zone"),
    "zone without camera": ({"zone": "stair-b3"}, 422, "bad_zone"),
    "no location": ({"location": "  "}, 422, "missing_location"),
    "location too long": ({"location": "x" * 301}, 422, "too_long"),
    "description too long": ({"description": "x" * 2001}, 422, "too_long"),
    "boxes not JSON": ({"boxes": "[[1,2,3"}, 422, "bad_boxes"),
    "box outside the photo": ({"boxes": "[[900, 1100, 950, 1200]]"}, 422, "bad_boxes"),
    "missing photo": ({"_photos": []}, 422, "missing_photo"),
    "not an image": ({"_photos": [b"GIF89a not really"]}, 422, "not_an_image"),
    "too many pixels": ({"_photos": ["big"]}, 413, "too_large"),
    "fixed without after photo": ({"fixed_on_the_spot": "true"}, 422, "missing_after_photo"),
    "after photo not an image": ({"fixed_on_the_spot": "true", "_after": b"nope"}, 422, "not_an_image"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_inspection_is_refused_and_nothing_is_stored(make_harness, case: str) -> None:
    h = make_harness(max_pixels=1_000_000)  # bus.jpg is 0.87 MP; "big" is 1.2 MP
    fields, code, reason = REFUSALS[case]
    fields = dict(fields)
    photos = fields.pop("_photos", None)
    if photos == ["big"]:
        photos = [photo_png(1, (1200, 1000))]
    after = fields.pop("_after", None)
    answer = inspect(h, "police", photos=photos, after=after, **fields)
    assert answer.status_code == code, answer.text
    assert answer.json()["detail"]["reason"] == reason
    assert stored(h) == (0, 0)


def test_a_body_over_the_limit_is_refused(make_harness) -> None:
    h = make_harness(max_upload_bytes=50_000)  # bus.jpg is about 134 kB
    answer = inspect(h, "police")
    assert answer.status_code == 413 and answer.json()["detail"]["reason"] == "too_large"
    raw = h.client.post(
        "/api/v1/hazards", content=b"{}", headers=h.headers("police") | {"Content-Type": "application/json"}
    )
    assert raw.status_code == 415
    assert stored(h) == (0, 0)


def test_roles_and_isolation(harness: Harness) -> None:
    other = inspect(harness, "huayuan", compound="lanting")
    assert other.status_code == 404 and other.json()["detail"]["reason"] == "unknown_compound"
    gateway = inspect(harness, "gateway")
    assert gateway.status_code == 403
    nobody = harness.client.post("/api/v1/hazards", data={"kind": "blocked_exit"})
    assert nobody.status_code == 401
    assert stored(harness) == (0, 0)
    own = inspect(harness, "huayuan", compound="huayuan", kind="blocked_exit")
    assert own.status_code == 201, own.text
    hazard_id = own.json()["id"]
    assert harness.client.get(f"/api/v1/hazards/{hazard_id}", headers=harness.headers("lanting")).status_code == 404
    assert harness.client.get(f"/api/v1/hazards/{hazard_id}", headers=harness.headers("police")).status_code == 200
