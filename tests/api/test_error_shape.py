"""Every kind of refusal of the API answers one shape, `{"detail": {"reason", "message"}}` (validation errors
add `errors`, one per field), whatever raised it: a key check, a role check, the CSRF guard, the router itself
(unknown path, wrong method), validation, a domain rule or a route's own rejection. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from httpx import Response

from tests.api.conftest import Harness
from tests.support import png_bytes
from tests.web.support import add_people, login

FRAMES = "/api/v1/cameras/lanting-gate/frames"


def _push(h: Harness, body: bytes, content_type: str = "image/png", **params: str) -> Response:
    headers = h.headers("gateway") | {"Content-Type": content_type}
    return h.client.post(FRAMES, content=body, headers=headers, params=params)


def _csrf_missing(h: Harness) -> Response:
    add_people(h)
    login(h.client, "police")  # the cookie alone, without X-CSRF-Token, changes nothing through the API
    return h.client.post("/api/v1/hazards/1/acknowledge")


CASES: dict[str, tuple[Callable[[Harness], Response], int, str]] = {
    "no key": (lambda h: h.client.get("/api/v1/hazards"), 401, "unauthenticated"),
    "unknown key": (
        lambda h: h.client.get("/api/v1/hazards", headers={"Authorization": "Bearer cw_nope_nope"}),
        401,
        "invalid_key",
    ),
    "metrics without a key": (lambda h: h.client.get("/metrics"), 401, "unauthenticated"),
    "role": (lambda h: h.client.get("/api/v1/deliveries", headers=h.headers("police")), 403, "forbidden"),
    "camera scope": (
        lambda h: h.client.post(
            "/api/v1/cameras/huayuan-lane/frames",
            content=png_bytes(1)[0],
            headers=h.headers("gateway") | {"Content-Type": "image/png"},
        ),
        403,
        "camera_not_allowed",
    ),
    "csrf": (_csrf_missing, 403, "csrf"),
    "unknown route": (lambda h: h.client.get("/api/v1/nothing-here", headers=h.headers("admin")), 404, "not_found"),
    "unknown hazard": (lambda h: h.client.get("/api/v1/hazards/999", headers=h.headers("admin")), 404, "not_found"),
    "wrong method": (
        lambda h: h.client.delete("/api/v1/hazards", headers=h.headers("admin")),
        405,
        "method_not_allowed",
    ),
    "state": (
        lambda h: h.client.post("/api/v1/cameras/lanting-gate/clear-reference", headers=h.headers("admin")),
        409,
        "no_frame",
    ),
    "too large": (lambda h: _push(h, b"x" * (1024 * 1024 + 1)), 413, "too_large"),
    "media type": (lambda h: _push(h, png_bytes(1)[0], "text/plain"), 415, "unsupported_media_type"),
    "domain 422": (lambda h: _push(h, png_bytes(1)[0], captured_at="yesterday"), 422, "bad_captured_at"),
    "validation": (
        lambda h: h.client.get("/api/v1/hazards?limit=lots&order=sideways", headers=h.headers("admin")),
        422,
        "invalid",
    ),
    "text guard": (lambda h: h.client.get("/api/v1/hazards?kind=%00", headers=h.headers("admin")), 422, "bad_text"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_refusal_has_the_one_shape(harness: Harness, case: str) -> None:
    call, status, reason = CASES[case]
    answer = call(harness)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/json")
    detail = answer.json()["detail"]
    assert isinstance(detail, dict) and detail["reason"] == reason, detail
    assert isinstance(detail["message"], str) and detail["message"].strip()
    assert set(detail) <= {"reason", "message", "errors"}
    if status == 401:
        assert answer.headers["WWW-Authenticate"] == "Bearer"


def test_validation_errors_keep_the_list_of_fields(harness: Harness) -> None:
    answer = harness.client.get("/api/v1/hazards?limit=lots&order=sideways", headers=harness.headers("admin"))
    detail = answer.json()["detail"]
    fields = {tuple(e["loc"]): e for e in detail["errors"]}
    assert set(fields) == {("query", "limit"), ("query", "order")}
    assert all(e["msg"] and e["type"] for e in fields.values())
    assert detail["message"].startswith("query.") and "(and 1 more)" in detail["message"]


def test_the_schema_documents_the_shape_for_every_operation(harness: Harness) -> None:
    schema = harness.client.get("/openapi.json").json()
    answer = schema["components"]["schemas"]["ErrorAnswer"]
    assert answer["required"] == ["detail"] and answer["properties"]["detail"]["$ref"].endswith("/ErrorDetail")
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"reason", "message"} and "errors" in detail["properties"]
    for path, operations in schema["paths"].items():
        if path.startswith("/open311/"):
            continue  # Open311's own error list, documented on its routes
        for method, operation in operations.items():
            for code in ("401", "403", "404", "422"):
                ref = operation["responses"][code]["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorAnswer"), (method, path, code)


def test_the_bare_address_goes_to_the_desk_and_the_docs_stay(harness: Harness) -> None:
    root = harness.client.get("/", follow_redirects=False)
    assert root.status_code == 307 and root.headers["location"] == "/web/hazards"
    desk = harness.client.get("/web/hazards", follow_redirects=False)
    assert desk.status_code == 303 and desk.headers["location"].startswith("/web/login")
    assert harness.client.get("/", follow_redirects=True).url.path == "/web/login"
    assert harness.client.get("/docs").status_code == 200
    assert harness.client.get("/healthz").json() == {"status": "ok"}
