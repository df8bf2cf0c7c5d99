"""Lift commands: the immediate message to a lift's controller, apart from the hazard message, through the
outbox to a real webhook receiver and a real MQTT broker; the property company's release tells it too."""

from __future__ import annotations

import uuid

import pytest

from service.actions.hazards import act_on_hazard
from service.auth.keys import Principal
from service.camera_locks import CameraLocks
from service.config.site import SiteConfigError, parse_site
from service.scene.scenes import StaticScenes
from tests.delivery.conftest import MakeEnv
from tests.delivery.support import site_data, verify_signature, webhook

LIFT = {"camera": "lanting-b3-lift", "zone": "lift-b3", "category": "two_wheeler"}
PROPERTY = Principal("pm-lanting", "property", "pm-lanting")


def lift_site(url: str, mqtt_prefix: str | None = None):
    lift_channels = [webhook(f"{url}/lift", name="lift-controller", events=["lift_command"])]
    if mqtt_prefix is not None:
        lift_channels.append(
            {"type": "mqtt", "name": "lift-bus", "topic_prefix": mqtt_prefix, "events": ["lift_command"]}
        )
    channels = {
        "pm-lanting": [*lift_channels, webhook(f"{url}/desk", name="desk")],
        "ps-chengguan": [webhook(f"{url}/ps")],
    }
    return parse_site(site_data(channels))


def drain(env) -> None:
    while env.dispatch().claimed:
        pass


def bodies(receiver, path: str) -> list[dict]:
    return [r.json() for r in receiver.requests if r.path.strip("/") == path]


def test_a_lift_alarm_commands_the_controller_apart_from_the_hazard_message(
    make_env: MakeEnv, receivers, subscribe
) -> None:
    receiver = receivers()
    prefix = f"cw-lift-{uuid.uuid4().hex[:8]}"
    bus = subscribe(prefix)
    env = make_env(lift_site(receiver.url, prefix))
    hazard_id = env.open_hazard(**LIFT)
    drain(env)
    [alert] = bodies(receiver, "lift")
    assert alert["schema"] == "clearway.lift_command/1" and alert["command"] == "alert"
    assert alert["actions"] == ["voice_warning", "door_hold"] and alert["hazard"]["zone"]["id"] == "lift-b3"
    assert alert["idempotency_key"].startswith("cw-") and all(verify_signature(r) for r in receiver.requests)
    assert [b["event"] for b in bodies(receiver, "desk")] == ["opened"]  # the people's message, separately
    assert [b["event"] for b in bodies(receiver, "ps")] == ["opened"]  # the police hear of the hazard only
    assert bus.wait_for(lambda messages: any(t.endswith("/lanting-b3-lift/lift") for t, _, _ in messages))
    assert [m["command"] for m in bus.on("/lanting-b3-lift/lift")] == ["alert"]
    assert bus.on("/hazards") == []  # the lift's bus hears nothing but commands

    with env.db.session() as session:
        act_on_hazard(session, env.writer, StaticScenes(env.db, CameraLocks()), PROPERTY, hazard_id, "release")
    drain(env)
    assert [b["command"] for b in bodies(receiver, "lift")] == ["alert", "release"]
    release = bodies(receiver, "lift")[1]
    assert release["reason"] == "dismissed" and release["actions"] == []
    assert [b["event"] for b in bodies(receiver, "ps")] == ["opened", "dismissed"]
    keys = [r.json()["idempotency_key"] for r in receiver.requests]
    assert len(keys) == len(set(keys))


def test_a_lift_hazard_that_clears_by_itself_releases_and_other_zones_send_no_commands(
    make_env: MakeEnv, receivers
) -> None:
    receiver = receivers()
    env = make_env(lift_site(receiver.url))
    hazard_id = env.open_hazard(**LIFT)
    env.act(hazard_id, "cleared", actor="system")
    env.open_hazard()  # the fire lane: no lift command
    drain(env)
    assert [b["command"] for b in bodies(receiver, "lift")] == ["alert", "release"]
    assert [b["event"] for b in bodies(receiver, "desk")] == ["opened", "cleared", "opened"]


def test_lift_commands_go_only_to_machines() -> None:
    data = site_data(
        {"pm-lanting": [{"type": "wecom", "url": "https://example.org/robot", "events": ["lift_command"]}]}
    )
    with pytest.raises(SiteConfigError, match="goes to a machine: use a webhook or mqtt channel"):
        parse_site(data)
    with pytest.raises(SiteConfigError, match="lift_command"):
        parse_site(site_data({"pm-lanting": [webhook("https://example.org", events=["lift_order"])]}))
