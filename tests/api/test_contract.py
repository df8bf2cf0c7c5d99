"""The API's contract: response bodies are documented models in the OpenAPI schema, and refusals from the
domain layer answer a status code with `{"detail": {"reason", "message"}}` (SQLite and PostgreSQL)."""

from __future__ import annotations

from tests.api.conftest import Harness
from tests.api.support import open_hazard


def test_openapi_documents_the_response_models(harness: Harness) -> None:
    schema = harness.client.get("/openapi.json").json()
    ok = {
        path: schema["paths"][path][method]["responses"][code]["content"]["application/json"]["schema"]["$ref"]
        for path, method, code in (
            ("/api/v1/hazards", "get", "200"),
            ("/api/v1/hazards/{hazard_id}", "get", "200"),
            ("/api/v1/hazards/{hazard_id}/{action}", "post", "200"),
            ("/api/v1/cameras", "get", "200"),
            ("/api/v1/cameras/{camera_id}/frames", "post", "201"),
            ("/api/v1/deliveries", "get", "200"),
        )
    }
    assert [ref.rsplit("/", 1)[1] for ref in ok.values()] == [
        "HazardList",
        "HazardDetail",
        "HazardDetail",
        "CameraList",
        "FrameAnswer",
        "DeliveryList",
    ]
    detail = schema["components"]["schemas"]["HazardDetail"]["properties"]
    assert {"history", "evidence", "recipients", "severity", "clear_width_m"} <= set(detail)
    assert set(schema["components"]["schemas"]["HistoryItem"]["properties"]) >= {"from", "to", "at", "actor"}


def test_refusals_carry_a_reason_and_a_message(harness: Harness) -> None:
    hazard_id = open_hazard(harness)
    url = f"/api/v1/hazards/{hazard_id}"
    answers = {
        "missing": harness.client.get("/api/v1/hazards/999999", headers=harness.headers("police")),
        "other company": harness.client.get(url, headers=harness.headers("huayuan")),
        "role": harness.client.post(f"{url}/dismiss", headers=harness.headers("lanting"), json={"reason": "other"}),
        "no reason": harness.client.post(f"{url}/dismiss", headers=harness.headers("police")),
        "no evidence": harness.client.get(f"{url}/evidence/after-9", headers=harness.headers("police")),
    }
    assert {name: (r.status_code, r.json()["detail"]["reason"]) for name, r in answers.items()} == {
        "missing": (404, "not_found"),
        "other company": (404, "not_found"),
        "role": (403, "forbidden"),
        "no reason": (422, "invalid"),
        "no evidence": (404, "not_found"),
    }
    assert all(r.json()["detail"]["message"] for r in answers.values())
    harness.client.post(f"{url}/dismiss", headers=harness.headers("police"), json={"reason": "false_positive"})
    again = harness.client.post(f"{url}/rectify", headers=harness.headers("lanting"))
    assert again.status_code == 409 and again.json()["detail"]["reason"] == "conflict"
    assert "dismissed" in again.json()["detail"]["message"]
