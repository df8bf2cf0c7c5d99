"""Ids and cursors beyond the database's integer range are a 422 with the reason, never a 500 (SQLite and
PostgreSQL), on the API and the pages."""

from __future__ import annotations

import pytest

from tests.api.conftest import Harness
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
