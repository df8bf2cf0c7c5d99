"""The accounts page (admins only) and the login limits over HTTP: disable, enable, unlock, reset, revoke, all
audited and in force at once; unknown and known names answered alike; one address throttled with Retry-After."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.auth import login_limits as limits
from service.store.auth_models import AuditEntry
from tests.api.conftest import Harness
from tests.web.support import PASSWORD, csrf_of, login, login_form_token

PAGE = "/web/admin/accounts"


def attempt(client: TestClient, username: str, password: str):
    data = {"username": username, "password": password, "csrf_token": login_form_token(client), "next": "/web/hazards"}
    return client.post("/web/login", data=data, follow_redirects=False)


def audit_of(h: Harness, action: str) -> list[AuditEntry]:
    with h.client.app.state.runtime.db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def prefix_of(key: str) -> str:
    return key.split("_")[1]


def test_only_admins_see_the_page_and_it_never_shows_a_secret(site: Harness) -> None:
    assert site.client.get(PAGE, follow_redirects=False).headers["location"].startswith("/web/login")
    login(site.client, "police")
    assert site.client.get(PAGE).status_code == 403
    csrf = csrf_of(site.client)
    refused = site.client.post(f"{PAGE}/users/lanting/disable", data={"csrf_token": csrf}, follow_redirects=False)
    assert refused.status_code == 403
    assert 'id="nav-accounts"' not in site.client.get("/web/hazards").text

    admin = TestClient(site.client.app)
    login(admin, "admin")
    page = admin.get(PAGE)
    assert page.status_code == 200 and 'id="nav-accounts"' in page.text
    for name in ("lanting", "police", "county"):
        assert f'id="user-{name}"' in page.text
    for key in site.keys.values():
        assert f'id="key-{prefix_of(key)}"' in page.text and key.split("_", 2)[2] not in page.text
    assert "兰亭物业" in page.text  # agency names, not only ids
    assert 'id="disable-admin"' not in page.text  # no button to lock yourself out


def test_disable_ends_the_persons_session_and_enable_lets_them_back(site: Harness) -> None:
    victim = TestClient(site.client.app)
    login(victim, "lanting")
    login(site.client, "admin")
    csrf = csrf_of(site.client)
    no_token = site.client.post(f"{PAGE}/users/lanting/disable", follow_redirects=False)
    assert no_token.status_code == 403  # the CSRF guard
    done = site.client.post(f"{PAGE}/users/lanting/disable", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{PAGE}?done=disable&target=lanting"
    assert victim.get("/web/hazards", follow_redirects=False).headers["location"].startswith("/web/login")
    assert attempt(TestClient(site.client.app), "lanting", PASSWORD).status_code == 401
    page = site.client.get(done.headers["location"]).text
    assert 'id="accounts-done"' in page and 'id="enable-lanting"' in page
    [row] = audit_of(site, "user.disable")
    assert (row.actor, row.via, row.object_id) == ("admin:admin", "web", "lanting")
    again = site.client.post(f"{PAGE}/users/lanting/disable", data={"csrf_token": csrf}, follow_redirects=False)
    assert "error=unchanged" in again.headers["location"]
    site.client.post(f"{PAGE}/users/lanting/enable", data={"csrf_token": csrf})
    assert attempt(TestClient(site.client.app), "lanting", PASSWORD).status_code == 303
    own = site.client.post(f"{PAGE}/users/admin/disable", data={"csrf_token": csrf}, follow_redirects=False)
    assert "error=self" in own.headers["location"]
    assert site.client.post(f"{PAGE}/users/nobody/enable", data={"csrf_token": csrf}).status_code == 200
    assert (
        "error=not_found"
        in site.client.post(f"{PAGE}/users/nobody/enable", data={"csrf_token": csrf}, follow_redirects=False).headers[
            "location"
        ]
    )
    bad = site.client.post(f"{PAGE}/users/lanting/explode", data={"csrf_token": csrf}, follow_redirects=False)
    assert bad.status_code == 404


def test_a_revoked_key_is_refused_by_the_api_at_once(site: Harness) -> None:
    assert site.client.get("/api/v1/hazards", headers=site.headers("police")).status_code == 200
    login(site.client, "admin")
    csrf = csrf_of(site.client)
    prefix = prefix_of(site.keys["police"])
    unsure = site.client.post(f"{PAGE}/keys/{prefix}/revoke", data={"csrf_token": csrf}, follow_redirects=False)
    assert "error=unsure" in unsure.headers["location"]  # the box was not ticked: nothing happened
    assert site.client.get("/api/v1/hazards", headers=site.headers("police")).status_code == 200
    done = site.client.post(
        f"{PAGE}/keys/{prefix}/revoke", data={"csrf_token": csrf, "sure": "yes"}, follow_redirects=False
    )
    assert done.status_code == 303
    refused = TestClient(site.client.app).get("/api/v1/hazards", headers=site.headers("police"))
    assert refused.status_code == 401 and "revoked" in refused.text
    assert f'id="revoke-{prefix}"' not in site.client.get(PAGE).text
    [row] = audit_of(site, "key.revoke")
    assert row.actor == "admin:admin" and row.object_id == prefix and row.detail == "police:ps"
    assert site.client.post(f"{PAGE}/keys/NOT-HEX/revoke", data={"csrf_token": csrf}).status_code == 404


def test_reset_shows_the_new_password_once_and_unlock_lifts_a_lock(site: Harness) -> None:
    for _ in range(limits.NAME_FAILURES):
        attempt(TestClient(site.client.app), "police", "wrong-password")
    assert attempt(TestClient(site.client.app), "police", PASSWORD).status_code == 429
    login(site.client, "admin")
    csrf = csrf_of(site.client)
    page = site.client.get(PAGE).text
    assert 'id="unlock-police"' in page and re.search(r"(Locked until|锁定至) \d{4}-\d\d-\d\d \d\d:\d\d \+08:00", page)
    site.client.post(f"{PAGE}/users/police/unlock", data={"csrf_token": csrf})
    assert attempt(TestClient(site.client.app), "police", PASSWORD).status_code == 303

    shown = site.client.post(f"{PAGE}/users/county/reset-password", data={"csrf_token": csrf})
    assert shown.status_code == 200 and shown.headers["cache-control"] == "private, no-store"
    password = re.search(r'<code id="new-password">([^<]+)</code>', shown.text).group(1)
    assert 'id="new-password"' not in site.client.get(PAGE).text  # shown this once
    assert attempt(TestClient(site.client.app), "county", PASSWORD).status_code == 401
    assert attempt(TestClient(site.client.app), "county", password).status_code == 303
    [row] = audit_of(site, "user.reset_password")
    assert row.actor == "admin:admin" and password not in row.detail
    own = site.client.post(f"{PAGE}/users/admin/reset-password", data={"csrf_token": csrf}, follow_redirects=False)
    assert "error=self" in own.headers["location"]


def test_unknown_and_known_names_get_the_same_answers(site: Harness) -> None:
    def answers(name: str) -> list[tuple[int, str]]:
        client = TestClient(site.client.app, client=(f"10.9.0.{len(name)}", 5000))
        out = []
        for _ in range(limits.NAME_FAILURES + 1):
            response = attempt(client, name, "wrong-password")
            body = re.search(r'id="login-error">([^<]*)<', response.text).group(1)
            out.append((response.status_code, response.headers.get("retry-after", "-"), body))
        return out

    known, unknown = answers("police"), answers("nobody-here")
    assert [a[0] for a in known] == [401] * (limits.NAME_FAILURES - 1) + [429, 429]
    assert [(s, b) for s, _, b in known] == [(s, b) for s, _, b in unknown]
    assert all(0 < int(r) <= 900 for s, r, _ in known + unknown if s == 429)


def test_one_address_is_throttled_with_retry_after(site: Harness) -> None:
    sprayer = TestClient(site.client.app, client=("203.0.113.5", 4000))
    for i in range(limits.ADDR_FAILURES):
        assert attempt(sprayer, f"guess{i}", "wrong-password").status_code == 401
    refused = attempt(sprayer, "police", PASSWORD)  # even a right password, from there
    assert refused.status_code == 429 and 0 < int(refused.headers["retry-after"]) <= 60
    assert "Too many failed sign-ins from this address" in refused.text or "该地址登录失败次数过多" in refused.text
    elsewhere = TestClient(site.client.app, client=("198.51.100.7", 4000))
    assert attempt(elsewhere, "police", PASSWORD).status_code == 303
