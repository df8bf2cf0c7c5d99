"""Admins list dead deliveries and re-drive them; nobody else may."""

from __future__ import annotations

from datetime import timedelta

from service.store.db import utcnow
from tests.delivery.receivers import DedupReceiver, Scripted
from tests.delivery.support import verify_signature, webhook, write_site
from tests.delivery.test_end_to_end import CAR, push


def test_dead_deliveries_are_listed_and_redriven_with_the_same_key(make_harness, receivers, tmp_path) -> None:
    dedup = DedupReceiver(verify_signature, Scripted([400, 400]))
    receiver = receivers(dedup)
    site_file = write_site(
        tmp_path / "site.yaml",
        {"pm-lanting": [webhook(f"{receiver.url}/hook")], "ps-chengguan": [webhook(f"{receiver.url}/hook", name="ps")]},
    )
    h = make_harness(site_file=site_file, delivery={"background": False})
    dispatcher = h.client.app.state.runtime.delivery.dispatcher
    start = utcnow() - timedelta(minutes=10)
    for i, seconds in enumerate((0, 150, 300)):
        result = push(h, 50 + i, start + timedelta(seconds=seconds), CAR)
    hazard_id = result["hazards"][0]["hazard_id"]
    assert dispatcher.run_once().dead == 2

    admin = h.headers("admin")
    for who in ("lanting", "police", "county", "gateway"):
        assert h.client.get("/api/v1/deliveries", headers=h.headers(who)).status_code == 403
        assert h.client.post("/api/v1/deliveries/redrive", headers=h.headers(who)).status_code == 403
    listing = h.client.get("/api/v1/deliveries", headers=admin, params={"status": "dead"}).json()
    assert listing["counts"] == {"dead": 2} and len(listing["items"]) == 2
    item = next(i for i in listing["items"] if i["agency_id"] == "pm-lanting")
    assert item["hazard_id"] == hazard_id and item["event"] == "opened" and "HTTP 400" in item["last_error"]
    page = h.client.get("/api/v1/deliveries", headers=admin, params={"limit": 1}).json()
    assert len(page["items"]) == 1 and page["next_cursor"] == page["items"][0]["id"]
    one = h.client.get(f"/api/v1/deliveries/{item['id']}", headers=admin).json()
    assert one["payload"]["hazard"]["id"] == hazard_id and one["payload"]["idempotency_key"] == item["idempotency_key"]
    assert h.client.get("/api/v1/deliveries/999999", headers=admin).status_code == 404

    redriven = h.client.post(f"/api/v1/deliveries/{item['id']}/redrive", headers=admin).json()
    assert redriven["status"] == "pending" and redriven["last_error"]  # the old error stays until it succeeds
    assert h.client.post(f"/api/v1/deliveries/{item['id']}/redrive", headers=admin).status_code == 409
    assert h.client.post("/api/v1/deliveries/redrive", headers=admin, json={"agency": "nobody"}).json() == {
        "redriven": 0
    }
    assert h.client.post("/api/v1/deliveries/redrive", headers=admin, json={"agency": "ps-chengguan"}).json() == {
        "redriven": 1
    }
    assert dispatcher.run_once().delivered == 2
    keys = [r.headers["idempotency-key"] for r in receiver.requests]
    assert len(keys) == 4 and len(set(keys)) == 2  # each message sent twice, under one key each
    assert len(dedup.processed) == 2
    assert h.client.get("/api/v1/deliveries", headers=admin).json()["counts"] == {"delivered": 2}
    detail = h.client.get(f"/api/v1/hazards/{hazard_id}", headers=admin).json()
    assert detail["status"] == "notified"
