"""Helpers for the web tests: people for every role, logging in, and frames that open a hazard."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from service.auth.users import create_user
from tests.api.conftest import Harness
from tests.support import detections, png_bytes

PASSWORD = "correct-horse-battery"
T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
CAR = ("car", "vehicle", (20, 30, 40, 45))  # in lanting-gate's fire lane (64x48 test frames)
PEOPLE = {
    "lanting": ("property", "pm-lanting"),
    "huayuan": ("property", "pm-huayuan"),
    "police": ("police", "ps-chengguan"),
    "county": ("county", None),
    "admin": ("admin", None),
}


def add_people(h: Harness) -> None:
    with h.client.app.state.services.db.session() as session:
        for name, (role, agency) in PEOPLE.items():
            create_user(session, name, PASSWORD, role, agency, display_name=f"{name.title()} User")


def push(h: Harness, seed: int, seconds: float, *objects, camera: str = "lanting-gate", client=None) -> dict:
    body, image = png_bytes(seed)
    h.detector.register(image, detections(*objects))
    response = (client or h.client).post(
        f"/api/v1/cameras/{camera}/frames",
        content=body,
        headers=h.headers("gateway") | {"Content-Type": "image/png"},
        params={"captured_at": (T0 + timedelta(seconds=seconds)).isoformat()},
    )
    assert response.status_code == 201, response.text
    return response.json()


def open_hazard(h: Harness, seed: int = 1, start: float = 0.0, obj: tuple = CAR, camera: str = "lanting-gate") -> int:
    """Three frames over the fire lane's 300 s dwell: returns the new hazard's id."""
    push(h, seed, start, obj, camera=camera)
    push(h, seed + 1, start + 150, obj, camera=camera)
    opened = push(h, seed + 2, start + 300, obj, camera=camera)["hazards"]
    assert [x["change"] for x in opened] == ["opened"], opened
    return opened[0]["hazard_id"]


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
