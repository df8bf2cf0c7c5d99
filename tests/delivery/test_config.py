"""Channel and escalation settings in the site file: what is accepted, what is refused and how it reads."""

from __future__ import annotations

from datetime import timedelta
from typing import get_args

import pytest

from service.config.site import AgencyKind, SiteConfigError, ZoneType, parse_site
from service.delivery import config
from service.delivery.config import DeliveredEvent, EmailChannel, MqttChannel, WebhookChannel
from service.delivery.settings import DeliverySettings
from tests.delivery.support import SECRET, site_data


def site(channels: dict[str, list[dict]], escalation: dict | None = None):
    return parse_site(site_data(channels, escalation))


def error_of(channels: dict[str, list[dict]], escalation: dict | None = None) -> str:
    with pytest.raises(SiteConfigError) as caught:
        site(channels, escalation)
    return str(caught.value)


def test_every_channel_type_parses_with_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANTING_MQTT_PASSWORD", "pw")
    parsed = site(
        {
            "pm-lanting": [
                {"type": "webhook", "url": "https://ops.example/hook", "secret": SECRET},
                {"type": "mqtt", "host": "10.0.0.5", "username": "cw", "password_env": "LANTING_MQTT_PASSWORD"},
                {"type": "wecom", "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"},
                {"type": "dingtalk", "url": "https://oapi.dingtalk.com/robot/send?access_token=t", "secret": "SECx"},
                {"type": "email", "host": "smtp.example", "sender": "cw@example.org", "to": ["duty@example.org"]},
                {"type": "email", "name": "night", "host": "smtp.example", "sender": "cw@x.org", "to": ["n@x.org"]},
            ]
        }
    )
    channels = parsed.agency("pm-lanting").channels
    assert [c.key for c in channels] == ["webhook", "mqtt", "wecom", "dingtalk", "email", "night"]
    webhook, mqtt, *_, email, _ = channels
    assert isinstance(webhook, WebhookChannel) and webhook.timeout_s == 10 and not webhook.include_thumbnail
    assert isinstance(mqtt, MqttChannel) and (mqtt.port, mqtt.qos, mqtt.topic_prefix) == (1883, 1, "clearway")
    assert mqtt.resolved_password == "pw"
    assert isinstance(email, EmailChannel) and email.security == "none" and email.attach_image
    assert webhook.accepts("opened", "lanting") and webhook.accepts("escalated", "huayuan")


@pytest.mark.parametrize(
    ("channel", "message"),
    [
        ({"type": "webhook", "url": "https://x.example"}, "exactly one of 'secret'"),
        ({"type": "webhook", "url": "https://x.example", "secret": "short"}, "at least 16 characters"),
        ({"type": "webhook", "url": "ftp://x.example", "secret": SECRET}, "url"),
        ({"type": "webhook", "url": "https://x.example", "secret_env": "CLEARWAY_NOT_SET_ANYWHERE"}, "is not set"),
        ({"type": "pager", "url": "https://x.example"}, "does not match any of the expected tags"),
        ({"type": "email", "host": "smtp", "sender": "cw@x.org", "to": []}, "to"),
        ({"type": "mqtt", "topic_prefix": "clearway/#"}, "topic_prefix"),
        ({"type": "mqtt", "qos": 3}, "qos"),
        ({"type": "wecom", "url": "https://x.example", "events": ["evidence_viewed"]}, "events"),
        ({"type": "wecom", "url": "https://x.example", "colour": "red"}, "colour"),
    ],
)
def test_bad_channels_are_refused_with_their_path(channel: dict, message: str) -> None:
    text = error_of({"pm-lanting": [channel]})
    assert "agencies[0].channels[0]" in text and message in text


def test_two_channels_of_a_type_need_names() -> None:
    hook = {"type": "wecom", "url": "https://x.example"}
    assert "channel names repeat ['wecom']" in error_of({"pm-lanting": [hook, hook]})
    assert len(site({"pm-lanting": [hook, hook | {"name": "second"}]}).agency("pm-lanting").channels) == 2


def test_escalation_defaults_durations_and_rules() -> None:
    escalation = site({}).escalation
    assert escalation.ladder == (("police_station",), ("fire_brigade", "county_office"))
    fire = escalation.deadline_for("fire_lane", "vehicle")
    assert (fire.acknowledge, fire.rectify) == (timedelta(minutes=30), timedelta(hours=24))
    assert escalation.deadline_for("safety_exit", "clutter").acknowledge == timedelta(minutes=15)
    custom = site(
        {},
        {
            "ladder": [["police_station"], ["county_office"]],
            "deadlines": [
                {"zone_type": "fire_lane", "category": "vehicle", "acknowledge": "1h30m", "rectify": "2d"},
                {"zone_type": "*", "acknowledge": 600, "rectify": "90m"},
            ],
        },
    ).escalation
    vehicle = custom.deadline_for("fire_lane", "vehicle")
    assert (vehicle.acknowledge, vehicle.rectify) == (timedelta(minutes=90), timedelta(days=2))
    assert custom.deadline_for("fire_lane", "clutter").acknowledge == timedelta(minutes=10)
    assert custom.shortest == timedelta(minutes=5)  # the built-in lift deadline is the shortest


@pytest.mark.parametrize(
    ("escalation", "message"),
    [
        ({"deadlines": [{"acknowledge": "2h", "rectify": "1h"}]}, "shorter than the acknowledge"),
        ({"deadlines": [{"acknowledge": "soon", "rectify": "1h"}]}, "acknowledge"),
        ({"deadlines": [{"acknowledge": 0, "rectify": "1h"}]}, "positive"),
        ({"ladder": [["sheriff"]]}, "ladder"),
        ({"ladder": []}, "ladder"),
    ],
)
def test_bad_escalation_is_refused(escalation: dict, message: str) -> None:
    text = error_of({}, escalation)
    assert "escalation" in text and message in text


def test_delivery_config_speaks_the_site_enums() -> None:
    assert config.AgencyKind is AgencyKind and config.ZoneType is ZoneType  # one definition, no spelled-out copy
    assert set(get_args(config.CategoryName)) == {"vehicle", "two_wheeler", "clutter"}
    assert "evidence_viewed" not in get_args(DeliveredEvent) and "notified" not in get_args(DeliveredEvent)


def test_public_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLEARWAY_PUBLIC_URL", "https://clearway.county.example")
    monkeypatch.setenv("CLEARWAY_DELIVERY_MAX_AGE_S", "3600")
    settings = DeliverySettings()
    assert settings.public_url == "https://clearway.county.example" and settings.max_age_s == 3600
