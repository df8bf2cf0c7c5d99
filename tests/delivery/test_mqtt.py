"""MQTT against the real Mosquitto on 127.0.0.1:1883 (and a private one for the outage test)."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid
from datetime import timedelta

import pytest

from service.store.db import utcnow
from tests.conftest import server_unavailable
from tests.delivery.conftest import MakeEnv
from tests.delivery.receivers import MqttSubscriber, wait_reachable
from tests.delivery.support import site_with
from tests.support import free_port


def mqtt_channel(prefix: str, port: int = 1883, **extra: object) -> dict:
    return {"type": "mqtt", "host": "127.0.0.1", "port": port, "topic_prefix": prefix, "timeout_s": 5} | extra


def test_events_on_the_camera_topic_and_retained_state(make_sqlite_env: MakeEnv, subscribe) -> None:
    prefix = f"cwtest-{uuid.uuid4().hex[:8]}"
    subscriber = subscribe(prefix)
    env = make_sqlite_env(site_with({"pm-lanting": [mqtt_channel(prefix)]}))
    hazard_id = env.open_hazard()
    assert env.dispatch().delivered == 1
    events_topic, state_topic = f"{prefix}/lanting/lanting-gate/hazards", f"{prefix}/lanting/lanting-gate/state"
    assert subscriber.wait_for(lambda msgs: any(t == state_topic for t, _, _ in msgs))
    [event] = subscriber.on("/hazards")
    [row] = env.deliveries()
    assert event["event"] == "opened" and event["hazard"]["id"] == hazard_id
    assert event["idempotency_key"] == row.idempotency_key
    [state] = subscriber.on("/state")
    assert state["state"] == "hazard" and state["active_hazards"] == 1 and state["hazards"][0]["id"] == hazard_id
    assert (f"{prefix}/available", b"online") in [(t, p) for t, p, _ in subscriber.messages]
    assert [t for t, _, _ in subscriber.messages if t.endswith(("/hazards", "/state"))] == [events_topic, state_topic]

    env.act(hazard_id, "acknowledged")
    env.act(hazard_id, "rectified")
    assert env.dispatch().delivered == 2
    assert subscriber.wait_for(lambda msgs: sum(t == state_topic for t, _, _ in msgs) >= 3)
    assert [e["event"] for e in subscriber.on("/hazards")] == ["opened", "acknowledged", "rectified"]
    assert subscriber.on("/state")[-1]["state"] == "clear"

    late = subscribe(prefix)  # a client connecting now still learns each camera's state: it is retained
    assert late.wait_for(lambda msgs: any(t == state_topic for t, _, _ in msgs))
    [(_, payload, retained)] = [m for m in late.messages if m[0] == state_topic]
    assert retained and json.loads(payload)["state"] == "clear" and json.loads(payload)["active_hazards"] == 0
    assert not any(t == events_topic for t, _, _ in late.messages)  # events are not retained
    env.service.dispatcher.senders.close()  # publishes "offline"; then leave the shared broker clean
    assert late.wait_for(lambda msgs: (f"{prefix}/available", b"offline", False) in msgs)
    late.client.publish(state_topic, b"", qos=1, retain=True).wait_for_publish(5)
    late.client.publish(f"{prefix}/available", b"", qos=1, retain=True).wait_for_publish(5)


@pytest.fixture
def private_broker_port(mqtt_broker) -> int:
    if shutil.which("mosquitto") is None:
        server_unavailable("mosquitto executable (for a broker that goes down and comes back)", "not on PATH")
    return free_port()


def test_broker_down_at_first_then_up_gets_it_once(make_sqlite_env: MakeEnv, private_broker_port: int) -> None:
    port, prefix = private_broker_port, "clearway"
    env = make_sqlite_env(site_with({"pm-lanting": [mqtt_channel(prefix, port=port, timeout_s=3)]}))
    env.open_hazard()
    now = utcnow()
    assert env.dispatch(now).retried == 1
    assert f"127.0.0.1:{port}" in env.deliveries()[0].last_error

    broker = subprocess.Popen(["mosquitto", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert wait_reachable("127.0.0.1", port, timeout_s=10), "private mosquitto did not start"
        subscriber = MqttSubscriber(prefix, port=port)
        try:
            assert env.dispatch(now + timedelta(seconds=60)).delivered == 1
            assert subscriber.wait_for(lambda msgs: any(t.endswith("/state") for t, _, _ in msgs))
            assert len(subscriber.on("/hazards")) == 1
            assert env.deliveries()[0].status == "delivered"
        finally:
            subscriber.close()
    finally:
        env.service.dispatcher.senders.close()  # disconnect before the broker goes
        broker.terminate()
        broker.wait(timeout=10)
