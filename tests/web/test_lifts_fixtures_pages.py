"""Lifts and fixtures on the pages: the lift card (entries per day), the property company's release button,
the reviewer's "mark as fixture" form, and the zone editor listing and drawing the marks — SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from service.auth.keys import create_key
from tests.api.conftest import Harness
from tests.api.test_lifts_api import EBIKE, ride
from tests.web.support import fresh_client, login, open_hazard


def get(client: TestClient, path: str, lang: str = "en") -> str:
    client.get(f"/web/lang/{lang}?next=/web/hazards")
    return html.unescape(client.get(path).text)


def form(client: TestClient, csrf: str, path: str, **fields: str):
    return client.post(path, data={"csrf_token": csrf, **fields}, follow_redirects=False)


def test_lift_card_and_remote_release_on_the_pages(site: Harness) -> None:
    hazard_id = ride(site, 500, 0, (0, 3, 6), EBIKE)[1]["hazard_id"]
    pm = fresh_client(site)
    csrf = login(pm, "lanting")
    cameras = get(pm, "/web/cameras")
    card = re.search(r'<section class="card" id="lift-card">(.*?)</section>', cameras, re.S).group(1)
    assert "Building 3 lift" in card and "lanting-b3-lift" in card
    assert "3号楼电梯" in get(pm, "/web/cameras", "zh")
    page = get(pm, f"/web/hazards/{hazard_id}")
    assert 'id="form-release"' in page and "Release the lift" in page
    police = fresh_client(site)
    login(police, "police")
    assert 'id="form-release"' not in get(police, f"/web/hazards/{hazard_id}")
    done = form(pm, csrf, f"/web/hazards/{hazard_id}/release", note="a stroller", queue="status=all")
    assert "done=release" in done.headers["location"]
    after = get(pm, done.headers["location"])
    assert f"Hazard #{hazard_id} released" in after and 'id="form-release"' not in after
    assert "Released remotely by the property company (false alarm): a stroller" in after
    assert "物业远程解除（误报）" in get(pm, f"/web/hazards/{hazard_id}", "zh")


def test_mark_a_fixture_see_it_in_the_editor_and_end_it(site: Harness) -> None:
    hazard_id = open_hazard(site)
    pm = fresh_client(site)
    login(pm, "lanting")
    assert 'id="form-fixture"' not in get(pm, f"/web/hazards/{hazard_id}")  # reviewers only
    police = fresh_client(site)
    csrf = login(police, "police")
    assert 'id="form-fixture"' in get(police, f"/web/hazards/{hazard_id}")
    refused = form(police, csrf, f"/web/hazards/{hazard_id}/fixture", days="9999")
    assert "error=invalid" in refused.headers["location"]
    marked = form(police, csrf, f"/web/hazards/{hazard_id}/fixture", days="30", note="newspaper kiosk")
    assert "done=fixture" in marked.headers["location"]
    assert "marked as a fixture" in get(police, marked.headers["location"])
    editor = get(police, "/web/cameras/lanting-gate")
    listed = re.search(r'<section class="card" id="fixtures-card">(.*?)</section>', editor, re.S).group(1)
    assert "Fixture #1" in listed and "newspaper kiosk" in listed and f"#{hazard_id}" in listed
    assert re.search(r"until \d{4}-\d{2}-\d{2} \d{2}:\d{2} \+08:00", listed)  # the site's clock
    assert 'id="fixture-layer"' in editor and "<rect" in editor.split('id="fixture-layer"')[1]
    assert "固定设施 #1" in get(pm, "/web/cameras/lanting-gate", "zh")
    assert 'id="remove-fixture-1"' not in get(pm, "/web/cameras/lanting-gate")  # the company may look, not end it
    ended = form(police, csrf, "/web/fixtures/1/remove", camera="lanting-gate")
    assert ended.headers["location"] == "/web/cameras/lanting-gate?fixture_done=1"
    after = get(police, ended.headers["location"])
    assert "Fixture #1 ended" in after and 'id="no-fixtures"' in after
    evil = form(police, csrf, "/web/fixtures/1/remove", camera="//evil.example.org")
    assert evil.headers["location"].startswith("/web/cameras?fixture_error=conflict")  # never an open redirect


def test_a_gateway_key_cannot_read_lift_figures(site: Harness) -> None:
    with site.client.app.state.runtime.db.session() as session:
        key = create_key(session, "gw2", "gateway", camera_ids=["lanting-b3-lift"])
    answer = site.client.get("/api/v1/lifts/entries", headers={"Authorization": f"Bearer {key}"})
    assert answer.status_code == 403
