"""Residents' reports through Open311 GeoReport v2: filed in JSON and XML with a real photo, moderated by the
compound (accept -> "opened" delivered; reject with a reason), refusals and rate limits storing nothing, and
the reporter's contact kept from everyone but the compound's property company, police station and admin
(SQLite and PostgreSQL)."""

from __future__ import annotations

import xml.etree.ElementTree as SafeET  # only our own answers are parsed here (no untrusted XML)
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.config.report_settings import ReportSettings
from service.store import models as m
from service.store.delivery_models import Delivery
from service.store.report_models import ResidentReport
from tests.api.conftest import Harness
from tests.delivery.support import webhook, write_site
from tests.intake.support import bus_jpg

BASE = "/open311/v2"
CONTACT = {"first_name": "Wei", "last_name": "Zhang", "email": "zhang.wei@example.cn", "phone": "13800138000"}
FORM = {
    "service_code": "vehicle_in_fire_lane",
    "compound": "lanting",
    "address_string": "Building 3, north fire lane",
    "description": "A white van has been parked across the fire lane since 7 am.",
}


@pytest.fixture
def site(make_harness, tmp_path: Path) -> Harness:
    """The demo site with a webhook for the Lanting property company (never reachable: rows stay pending)."""
    hooks = {"pm-lanting": [webhook("http://127.0.0.1:9/hook")], "ps-chengguan": [webhook("http://127.0.0.1:9/ps")]}
    return make_harness(site_file=write_site(tmp_path / "site.yaml", hooks))


def file(h: Harness, fmt: str = "json", photo: bool = True, **fields: str):
    files = {"media": ("bus.jpg", bus_jpg(), "image/jpeg")} if photo else None
    return h.client.post(f"{BASE}/requests.{fmt}", data=FORM | CONTACT | fields, files=files)


def counts(h: Harness) -> dict[str, int]:
    with h.client.app.state.runtime.db.session() as session:
        return {
            "hazards": session.scalar(select(func.count()).select_from(m.HazardEvent)) or 0,
            "reports": session.scalar(select(func.count()).select_from(ResidentReport)) or 0,
            "evidence": session.scalar(select(func.count()).select_from(m.Evidence)) or 0,
        }


def hazard_of(h: Harness, code: str) -> int:
    with h.client.app.state.runtime.db.session() as session:
        return session.scalars(select(ResidentReport.hazard_id).where(ResidentReport.tracking_code == code)).one()


def deliveries(h: Harness, hazard_id: int) -> list[tuple[str, str]]:
    with h.client.app.state.runtime.db.session() as session:
        rows = session.scalars(select(Delivery).where(Delivery.hazard_id == hazard_id))
        return sorted((d.event, d.agency_id) for d in rows)


def assert_no_contact(text: str) -> None:
    for value in CONTACT.values():
        assert value not in text


def test_services_list_every_reportable_kind_in_json_and_xml(harness: Harness) -> None:
    services = harness.client.get(f"{BASE}/services.json").json()
    codes = [s["service_code"] for s in services]
    assert "camera_offline" not in codes and "blocked_exit" in codes and len(codes) == 12
    first = services[0]
    assert first["metadata"] is False and first["type"] == "realtime" and first["group"] and first["keywords"]
    assert harness.client.get(f"{BASE}/services.json", params={"lang": "en"}).json()[0]["service_name"].isascii()
    xml = harness.client.get(f"{BASE}/services.xml")
    assert xml.headers["content-type"].startswith("application/xml")
    root = SafeET.fromstring(xml.content)
    assert root.tag == "services" and len(root.findall("service")) == 12
    assert root.find("service/metadata").text == "false"
    assert harness.client.get(f"{BASE}/services/blocked_exit.json").json()["attributes"] == []
    assert harness.client.get(f"{BASE}/services/nope.json").status_code == 404


def test_a_report_with_a_photo_waits_for_review_then_is_accepted_and_delivered(site: Harness) -> None:
    filed = file(site)
    assert filed.status_code == 201, filed.text
    code = filed.json()[0]["service_request_id"]
    assert len(code) == 19 and filed.json()[0]["service_notice"]
    hazard_id = hazard_of(site, code)

    detail = site.client.get(f"/api/v1/hazards/{hazard_id}", headers=site.headers("lanting")).json()
    assert (detail["source"], detail["status"], detail["kind"]) == (
        "resident",
        "pending_review",
        "vehicle_in_fire_lane",
    )
    assert {e["kind"] for e in detail["evidence"]} == {"original", "thumbnail"}
    assert [e["action"] for e in detail["history"]] == ["reported"]
    assert deliveries(site, hazard_id) == []  # "reported" is not delivered
    assert_no_contact(str(detail))
    photo = site.client.get(f"/api/v1/hazards/{hazard_id}/evidence/original", headers=site.headers("lanting"))
    assert photo.content[:3] == b"\xff\xd8\xff" and b"Exif" not in photo.content[:64]  # re-encoded, no EXIF

    public = site.client.get(f"{BASE}/requests/{code}.json").json()[0]
    assert public["status"] == "open" and public["service_code"] == "vehicle_in_fire_lane"
    assert public["agency_responsible"] == "" and public["media_url"] is None
    assert_no_contact(str(public))
    assert site.client.get(f"{BASE}/requests.json").json() == []  # pending: not listed

    accepted = site.client.post(f"/api/v1/hazards/{hazard_id}/accept", headers=site.headers("lanting"), json={})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["status"] == "open" and accepted.json()["history"][-1]["action"] == "opened"
    assert deliveries(site, hazard_id) == [("opened", "pm-lanting"), ("opened", "ps-chengguan")]
    with site.client.app.state.runtime.db.session() as session:
        payloads = [str(d.payload) for d in session.scalars(select(Delivery).where(Delivery.hazard_id == hazard_id))]
    for payload in payloads:
        assert_no_contact(payload)
    again = site.client.post(f"/api/v1/hazards/{hazard_id}/accept", headers=site.headers("lanting"))
    assert again.status_code == 409

    listed = site.client.get(f"{BASE}/requests.json").json()
    assert [r["service_request_id"] for r in listed] == [code]
    row = listed[0]
    assert row["agency_responsible"] and row["expected_datetime"] and row["requested_datetime"]
    assert row["address"] == FORM["address_string"]
    assert_no_contact(str(listed))
    assert site.client.get(f"{BASE}/requests.json", params={"status": "closed"}).json() == []
    assert site.client.get(f"{BASE}/requests.json", params={"service_code": "blocked_exit"}).json() == []
    assert site.client.get(f"{BASE}/requests.json", params={"start_date": "2099-01-01T00:00:00Z"}).json() == []
    assert site.client.get(f"{BASE}/requests.json", params={"start_date": "yesterday"}).status_code == 400


def test_a_report_in_xml_with_lat_long_and_its_rejection(site: Harness) -> None:
    filed = file(site, "xml", address_string="", lat="30.2741", long="120.1551")
    assert filed.status_code == 201, filed.text
    root = SafeET.fromstring(filed.content)
    code = root.find("request/service_request_id").text
    hazard_id = hazard_of(site, code)

    no_reason = site.client.post(f"/api/v1/hazards/{hazard_id}/reject", headers=site.headers("police"), json={})
    assert no_reason.status_code == 422 and no_reason.json()["detail"]["reason"] == "invalid"
    wrong = site.client.post(
        f"/api/v1/hazards/{hazard_id}/reject", headers=site.headers("police"), json={"reason": "false_positive"}
    )
    assert wrong.status_code == 422  # a dismissal reason is not a rejection reason
    rejected = site.client.post(
        f"/api/v1/hazards/{hazard_id}/reject",
        headers=site.headers("police"),
        json={"reason": "duplicate", "note": "same van as this morning's report"},
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["history"][-1]["note"] == "duplicate: same van as this morning's report"
    assert deliveries(site, hazard_id) == []

    one = SafeET.fromstring(site.client.get(f"{BASE}/requests/{code}.xml").content)
    assert one.find("request/status").text == "closed"
    assert one.find("request/lat").text == "30.2741" and one.find("request/long").text == "120.1551"
    assert "same van" not in site.client.get(f"{BASE}/requests/{code}.xml").text  # staff notes stay inside
    assert_no_contact(site.client.get(f"{BASE}/requests/{code}.xml").text)
    assert site.client.get(f"{BASE}/requests.xml").text.count("<request>") == 0  # rejected: never listed
    assert site.client.post(f"/api/v1/hazards/{hazard_id}/accept", headers=site.headers("police")).status_code == 409


@pytest.mark.parametrize(
    ("fields", "status", "reason"),
    [
        ({"service_code": "camera_offline"}, 422, "unknown_service_code"),
        ({"service_code": "parking_ticket"}, 422, "unknown_service_code"),
        ({"description": ""}, 422, "missing_description"),
        ({"description": "x" * 2001}, 422, "description_too_long"),
        ({"compound": ""}, 422, "missing_compound"),
        ({"compound": "atlantis"}, 422, "unknown_compound"),
        ({"address_string": "", "lat": "91", "long": "120"}, 422, "bad_lat_long"),
        ({"address_string": "", "lat": "30", "long": "east"}, 422, "bad_lat_long"),
        ({"address_string": "", "lat": "30"}, 422, "bad_lat_long"),
        ({"address_string": ""}, 422, "missing_location"),
        ({"email": "not-an-address"}, 422, "bad_email"),
    ],
)
def test_refused_reports_say_why_and_store_nothing(harness: Harness, fields: dict, status: int, reason: str) -> None:
    before = counts(harness)
    answer = file(harness, **fields)
    assert answer.status_code == status, answer.text
    error = answer.json()[0]
    assert error["code"] == status and error["reason"] == reason and error["description"]
    assert counts(harness) == before


def test_refused_photos_and_bodies(make_harness) -> None:
    h = make_harness(reports=ReportSettings(max_media_bytes=100_000))
    before = counts(h)
    post = h.client.post
    not_image = post(f"{BASE}/requests.json", data=FORM, files={"media": ("x.jpg", b"hello" * 100, "image/jpeg")})
    assert (not_image.status_code, not_image.json()[0]["reason"]) == (422, "not_an_image")
    gif = post(f"{BASE}/requests.xml", data=FORM, files={"media": ("x.gif", b"GIF89a" + b"\0" * 64, "image/gif")})
    assert gif.status_code == 422 and SafeET.fromstring(gif.content).find("error/code").text == "422"
    too_large = file(h)  # bus.jpg is larger than the 100 kB allowed here
    assert too_large.status_code == 413 and too_large.json()[0]["reason"] == "too_large"
    json_body = post(f"{BASE}/requests.json", json=FORM)
    assert json_body.status_code == 415
    assert h.client.get(f"{BASE}/requests/NOPE-NOPE.json").status_code == 404
    assert h.client.get(f"{BASE}/services.csv").status_code == 404
    assert counts(h) == before


def test_rate_limits_answer_429_and_store_nothing(make_harness) -> None:
    h = make_harness(reports=ReportSettings(per_client=2, per_compound=3))
    assert [file(h, photo=False).status_code for _ in range(2)] == [201, 201]
    before = counts(h)
    third = file(h, photo=False)
    assert third.status_code == 429 and third.json()[0]["reason"] == "rate_limited"
    assert 0 < int(third.headers["Retry-After"]) <= 3600
    assert counts(h) == before

    other = make_harness(reports=ReportSettings(per_client=100, per_compound=2))
    assert [file(other, photo=False).status_code for _ in range(3)] == [201, 201, 429]
    assert file(other, photo=False, compound="huayuan").status_code == 201  # another compound's own window


def test_only_the_compound_sees_moderates_and_reads_the_contact(site: Harness) -> None:
    code = file(site, photo=False).json()[0]["service_request_id"]
    hazard_id = hazard_of(site, code)
    url = f"/api/v1/hazards/{hazard_id}"
    assert site.client.get(url, headers=site.headers("huayuan")).status_code == 404
    other = site.client.post(f"{url}/accept", headers=site.headers("huayuan"))
    assert other.status_code == 404
    assert (
        site.client.post(f"{url}/reject", headers=site.headers("huayuan"), json={"reason": "other"}).status_code == 404
    )
    assert site.client.post(f"{url}/accept", headers=site.headers("county")).status_code == 403
    assert site.client.get(f"{url}/reporter", headers=site.headers("huayuan")).status_code == 404
    assert site.client.get(f"{url}/reporter", headers=site.headers("county")).status_code == 403
    for who in ("lanting", "police", "admin"):
        contact = site.client.get(f"{url}/reporter", headers=site.headers(who))
        assert contact.status_code == 200, contact.text
        assert {k: contact.json()[k] for k in CONTACT} == CONTACT
    for who in ("lanting", "county", "admin"):
        listed = site.client.get("/api/v1/hazards", headers=site.headers(who), params={"source": "resident"})
        assert_no_contact(listed.text)
    assert_no_contact(site.client.get(f"{BASE}/requests/{code}.json").text)
    assert deliveries(site, hazard_id) == []
