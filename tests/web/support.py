"""Helpers for the web tests: people for every role, logging in, and frames that open a hazard."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from service.auth.users import create_user
from tests.api.conftest import Harness
from tests.api.support import CAR, T0, open_hazard, push  # noqa: F401  (re-exported for tests/web)

PASSWORD = "correct-horse-battery"
PEOPLE = {
    "lanting": ("property", "pm-lanting"),
    "huayuan": ("property", "pm-huayuan"),
    "police": ("police", "ps-chengguan"),
    "county": ("county", None),
    "admin": ("admin", None),
}


def add_people(h: Harness) -> None:
    with h.client.app.state.runtime.db.session() as session:
        for name, (role, agency) in PEOPLE.items():
            create_user(session, name, PASSWORD, role, agency, display_name=f"{name.title()} User")


def login_form_token(client: TestClient) -> str:
    page = client.get("/web/login")
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token (from the page)."""
    response = client.post(
        "/web/login",
        data={
            "username": username,
            "password": password,
            "csrf_token": login_form_token(client),
            "next": "/web/hazards",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    page = client.get("/web/hazards")
    assert page.status_code == 200, page.text
    return re.search(r'data-csrf="([^"]+)"', page.text).group(1)


def fresh_client(h: Harness) -> TestClient:
    """A second browser on the same app (own cookie jar), already started."""
    return TestClient(h.client.app)
