"""Ids and cursors beyond the database's integer range are a 422 with the reason, never a 500 (SQLite and
PostgreSQL), on the API and the pages."""

from __future__ import annotations

import pytest

from tests.api.conftest import Harness
from tests.api.support import open_hazard
from tests.support import png_bytes
from tests.web.support import add_people, fresh_client, login

TOO_BIG = "2147483648"  # PostgreSQL's integer + 1
HUGE = "9223372036854775808"  # beyond SQLite's 64-bit integer


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/hazards/{TOO_BIG}",
        f"/api/v1/hazards/{HUGE}",
        f"/api/v1/hazards/{TOO_BIG}/evidence/annotated",
        f"/api/v1/hazards/{TOO_BIG}/reporter",
        f"/api/v1/hazards?cursor={HUGE}",
        f"/api/v1/deliveries/{TOO_BIG}",
        f"/api/v1/deliveries?hazard_id={TOO_BIG}",
        f"/api/v1/deliveries?cursor={TOO_BIG}",
        f"/api/v1/campaign/reports/{TOO_BIG}",
        f"/api/v1/campaign/reports/{HUGE}.pdf",
        "/api/v1/hazards/0",
    ],
)
def test_out_of_range_ids_are_422(harness: Harness, path: str) -> None:
    answer = harness.client.get(path, headers=harness.headers("admin"))
    assert answer.status_code == 422, answer.text


def test_actions_and_pages_refuse_them_too(harness: Harness) -> None:
    action = harness.client.post(f"/api/v1/hazards/{TOO_BIG}/acknowledge", headers=harness.headers("admin"))
    assert action.status_code == 422
    redrive = harness.client.post(f"/api/v1/deliveries/{TOO_BIG}/redrive", headers=harness.headers("admin"))
    assert redrive.status_code == 422
    add_people(harness)
    browser = fresh_client(harness)
    login(browser, "admin")
    for path in (f"/web/hazards/{TOO_BIG}", f"/web/hazards?cursor={HUGE}", f"/web/audit?cursor={HUGE}"):
        assert browser.get(path).status_code == 422, path


def test_times_without_an_offset_are_site_time_and_edge_times_are_refused(harness: Harness) -> None:
    admin = harness.headers("admin")
    naive = harness.client.get("/api/v1/hazards", params={"since": "2026-11-01"}, headers=admin)
    assert naive.status_code == 200
    for name, value in (("until", "9999-12-31T23:59:59-14:00"), ("since", "0001-01-01T00:00:00+14:00")):
        for path in ("/api/v1/hazards", "/api/v1/ledger.csv"):
            answer = harness.client.get(path, params={name: value}, headers=admin)
            assert answer.status_code == 422 and answer.json()["detail"]["reason"] == "bad_time", (path, answer.text)
    body, _ = png_bytes(1)
    pushed = harness.client.post(
        "/api/v1/cameras/lanting-gate/frames",
        content=body,
        headers=harness.headers("gateway") | {"Content-Type": "image/png"},
        params={"captured_at": "0001-01-01T00:00:00+14:00"},
    )
    assert pushed.status_code == 422 and pushed.json()["detail"]["reason"] == "bad_captured_at"
    add_people(harness)
    browser = fresh_client(harness)
    login(browser, "admin")
    assert browser.get("/web/hazards", params={"from": "0001-01-01", "to": "9999-12-31"}).status_code == 200


def test_nul_characters_and_lone_surrogates_are_refused_before_the_store(harness: Harness) -> None:
    admin = harness.headers("admin")
    for query in ("compound=a%00b", "kind=%ED%A0%80", "status=%FF"):
        answer = harness.client.get(f"/api/v1/hazards?{query}", headers=admin)
        assert answer.status_code == 422 and answer.json()["detail"]["reason"] == "bad_text", query
    hazard = open_hazard(harness)
    for body in (b'{"note": "a\\u0000b"}', b'{"note": "a\\ud800b"}', b'{"a\\u0000": 1}'):
        answer = harness.client.post(
            f"/api/v1/hazards/{hazard}/acknowledge", content=body, headers=admin | {"Content-Type": "application/json"}
        )
        assert answer.status_code == 422 and answer.json()["detail"]["reason"] == "bad_text", body
    fine = harness.client.post(f"/api/v1/hazards/{hazard}/acknowledge", json={"note": "车已挪走 ✓"}, headers=admin)
    assert fine.status_code == 200
    add_people(harness)
    browser = fresh_client(harness)
    login(browser, "admin")
    form = browser.post(
        f"/web/hazards/{hazard}/note",
        content=b"note=a%00b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert form.status_code == 422
