"""People's accounts: argon2 hashes, cookie flags, login CSRF, lockout, logout, expiry, the CLI."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.auth.login_limits import name_subject
from service.auth.users import LOCK_AFTER_FAILURES
from service.store.auth_models import AuditEntry, LoginLimit, User, WebSession
from service.store.db import utcnow
from tests.api.conftest import Harness
from tests.web.support import PASSWORD, csrf_of, login, login_form_token


def attempt(client: TestClient, username: str, password: str, token: str | None = None):
    token = token if token is not None else login_form_token(client)
    return client.post(
        "/web/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/web/cameras"},
        follow_redirects=False,
    )


def db(h: Harness):
    return h.client.app.state.runtime.db


def test_passwords_are_stored_as_argon2id_hashes(site: Harness) -> None:
    with db(site).session() as session:
        user = session.scalars(select(User).where(User.username == "police")).one()
        assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_login_sets_an_httponly_samesite_cookie_and_goes_where_asked(site: Harness) -> None:
    response = attempt(site.client, "police", PASSWORD)
    assert response.status_code == 303 and response.headers["location"] == "/web/cameras"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("cw_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie  # plain-HTTP test host
    assert site.client.get("/web/cameras").status_code == 200
    secure = TestClient(site.client.app, base_url="https://clearway.example.gov")
    cookie = next(c for c in attempt(secure, "police", PASSWORD).headers.get_list("set-cookie") if "cw_session" in c)
    assert "Secure" in cookie  # anything but loopback gets a Secure cookie


def test_login_form_needs_its_own_token_and_refuses_open_redirects(site: Harness) -> None:
    assert attempt(site.client, "police", PASSWORD, token="forged").status_code == 403
    response = site.client.post(
        "/web/login",
        data={
            "username": "police",
            "password": PASSWORD,
            "csrf_token": login_form_token(site.client),
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/web/hazards"


def test_wrong_passwords_lock_the_account_and_are_audited(site: Harness) -> None:
    unknown = attempt(site.client, "nobody", "whatever-password")
    wrong = attempt(site.client, "police", "wrong-password")
    assert unknown.status_code == wrong.status_code == 401
    assert "Wrong username or password" in wrong.text or "用户名或密码错误" in wrong.text
    for _ in range(LOCK_AFTER_FAILURES - 2):
        assert attempt(site.client, "police", "wrong-password").status_code == 401
    locked = attempt(site.client, "police", "wrong-password")
    assert locked.status_code == 429
    assert attempt(site.client, "police", PASSWORD).status_code == 429  # even the right password, while locked
    with db(site).session() as session:
        actions = [a.action for a in session.scalars(select(AuditEntry).where(AuditEntry.object_id == "police"))]
        assert actions.count("login.failed") == LOCK_AFTER_FAILURES - 1 and "login.locked" in actions
        lock = session.scalars(select(LoginLimit).where(LoginLimit.subject == name_subject("police"))).one()
        lock.locked_until = utcnow() - timedelta(seconds=1)  # the lock has run out
    assert attempt(site.client, "police", PASSWORD).status_code == 303


def test_logout_needs_the_token_and_ends_the_session(site: Harness) -> None:
    csrf = login(site.client, "county")
    cookie = site.client.cookies.get("cw_session")
    assert site.client.post("/web/logout", follow_redirects=False).status_code == 403
    response = site.client.post("/web/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/web/login"
    assert site.client.get("/web/hazards", follow_redirects=False).status_code == 303
    replay = TestClient(site.client.app, cookies={"cw_session": cookie})
    assert replay.get("/web/hazards", follow_redirects=False).headers["location"].startswith("/web/login")
    with db(site).session() as session:
        assert session.scalars(select(WebSession)).all() == []


def test_idle_sessions_expire(site: Harness) -> None:
    login(site.client, "county")
    with db(site).session() as session:
        for row in session.scalars(select(WebSession)):
            row.last_seen_at = utcnow() - timedelta(hours=3)
    assert site.client.get("/web/hazards", follow_redirects=False).status_code == 303


def test_a_key_in_the_request_wins_over_a_cookie(site: Harness) -> None:
    login(site.client, "county")  # county may not act...
    response = site.client.post("/api/v1/hazards/999/confirm", headers=site.headers("police"))
    assert response.status_code == 404  # ...the police key did (no CSRF needed for keys), and found nothing


def test_clearway_users_create(site: Harness, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from service.cli import main
    from service.config.settings import get_settings

    monkeypatch.setenv("CLEARWAY_DATA_DIR", str(site.settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", site.settings.resolved_database_url)
    get_settings.cache_clear()
    try:
        argv = [
            "users",
            "create",
            "--username",
            "li.wei",
            "--role",
            "police",
            "--agency",
            "ps-chengguan",
            "--name",
            "Li Wei",
            "--password-stdin",
        ]
        monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
        assert main(argv) == 0
        monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
        assert main(argv) == 2 and "already exists" in capsys.readouterr().err
        monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
        assert main([*argv[:3], "zhang", *argv[4:]]) == 2
        monkeypatch.setattr("sys.stdin", io.StringIO("a-long-enough-password\n"))
        assert main(["users", "create", "--username", "x", "--role", "property", "--password-stdin"]) == 2
        assert main(["users", "demo"]) == 0
        demo = (site.settings.data_dir / "demo-users.env").read_text()
        password = re.search(r"^PM_LANTING_PASSWORD=(\S+)", demo, re.M).group(1)
    finally:
        get_settings.cache_clear()
    assert csrf_of_login(site, "li.wei", "a-long-enough-password")
    assert csrf_of_login(site, "pm-lanting", password)


def csrf_of_login(h: Harness, username: str, password: str) -> str:
    client = TestClient(h.client.app)
    login(client, username, password)
    return csrf_of(client)
