"""Frames in -> hazard -> webhook and MQTT messages out, through the real app with its background threads."""

from __future__ import annotations

import uuid
from datetime import timedelta

from service.store.db import utcnow
from tests.api.conftest import Harness
from tests.delivery.receivers import DedupReceiver
from tests.delivery.support import PUBLIC_URL, verify_signature, webhook, write_site
from tests.support import detections, png_bytes, wait_until

CAR = ("car", "vehicle", (20, 30, 40, 45))  # ground point in lanting-gate's fire lane


def push(h: Harness, seed: int, captured_at, *objects) -> dict:
    body, image = png_bytes(seed)
    h.detector.register(image, detections(*objects))
    response = h.client.post(
        "/api/v1/cameras/lanting-gate/frames",
        content=body,
        headers=h.headers("gateway") | {"Content-Type": "image/png"},
        params={"captured_at": captured_at.isoformat()},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_frames_in_webhook_and_mqtt_out_with_valid_signatures(make_harness, receivers, subscribe, tmp_path) -> None:
    dedup = DedupReceiver(verify_signature)
    receiver = receivers(dedup)
    prefix = f"cwtest-{uuid.uuid4().hex[:8]}"
    mqtt = {"type": "mqtt", "host": "127.0.0.1", "port": 1883, "topic_prefix": prefix, "timeout_s": 5}
    site_file = write_site(
        tmp_path / "site.yaml",
        {
            "pm-lanting": [webhook(f"{receiver.url}/pm-lanting", include_thumbnail=True), mqtt],
            "ps-chengguan": [webhook(f"{receiver.url}/police")],
            "pm-huayuan": [webhook(f"{receiver.url}/huayuan")],
        },
    )
    subscriber = subscribe(prefix)
    h = make_harness(site_file=site_file, delivery={"public_url": PUBLIC_URL, "poll_interval_s": 0.2})

    start = utcnow() - timedelta(minutes=10)
    assert push(h, 1, start, CAR)["hazards"] == []
    assert push(h, 2, start + timedelta(seconds=150), CAR)["hazards"] == []
    [opened] = push(h, 3, start + timedelta(seconds=300), CAR)["hazards"]
    assert opened["change"] == "opened"
    hazard_id = opened["hazard_id"]

    assert receiver.wait_for(2), "the dispatcher thread did not deliver"
    url = f"/api/v1/hazards/{hazard_id}"
    assert wait_until(lambda: h.client.get(url, headers=h.headers("admin")).json()["status"] == "notified")
    assert subscriber.wait_for(lambda msgs: any(t.endswith("/lanting/lanting-gate/hazards") for t, _, _ in msgs))
    assert (
        h.client.post(f"{url}/acknowledge", headers=h.headers("lanting"), json={"note": "guard sent"}).status_code
        == 200
    )
    assert receiver.wait_for(4)
    assert subscriber.wait_for(lambda msgs: sum(t.endswith("/hazards") for t, _, _ in msgs) >= 2)

    assert dedup.bad_signatures == 0 and all(verify_signature(r) for r in receiver.requests)
    seen = sorted((r.path, r.json()["event"]) for r in receiver.requests)
    assert seen == [
        ("/pm-lanting", "acknowledged"),
        ("/pm-lanting", "opened"),
        ("/police", "acknowledged"),
        ("/police", "opened"),
    ]  # and nothing for the other compound's property company
    opened_body = next(r.json() for r in receiver.requests if r.path == "/pm-lanting" and r.json()["event"] == "opened")
    detail = h.client.get(url, headers=h.headers("admin")).json()
    evidence = {e["kind"]: e["sha256"] for e in detail["evidence"]}
    assert opened_body["thumbnail"]["sha256"] == evidence["thumbnail"]
    assert {e["kind"]: e["sha256"] for e in opened_body["evidence"]} == evidence
    assert opened_body["hazard"]["url"] == f"{PUBLIC_URL}{url}"
    acknowledged = next(r.json() for r in receiver.requests if r.json()["event"] == "acknowledged")
    assert acknowledged["actor"] == "property:pm-lanting" and acknowledged["note"] == "guard sent"
    assert [e["event"] for e in subscriber.on("/hazards")] == ["opened", "acknowledged"]
    assert [x["action"] for x in detail["history"]] == ["opened", "notified", "acknowledged"]

    deliveries = h.client.get("/api/v1/deliveries", headers=h.headers("admin")).json()
    assert deliveries["counts"] == {"delivered": 6}  # 2 events x (webhook + MQTT + police webhook)
    metrics = h.client.get("/metrics", headers=h.headers("admin")).text
    assert 'clearway_deliveries_total{channel_type="webhook",outcome="delivered"} 4.0' in metrics
