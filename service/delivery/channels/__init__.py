"""Channel senders by type, sharing one HTTP connection pool and one MQTT connection per broker."""

from __future__ import annotations

import httpx

from service.delivery.channels.base import DeliveryError, Message, PermanentError, RetryableError, Sender
from service.delivery.channels.email import EmailSender
from service.delivery.channels.mqtt import MqttSender
from service.delivery.channels.robots import DingtalkSender, WecomSender
from service.delivery.channels.webhook import WebhookSender

__all__ = ["DeliveryError", "Message", "PermanentError", "RetryableError", "Senders"]


class Senders:
    def __init__(self, http: httpx.Client | None = None) -> None:
        self.http = http or httpx.Client(follow_redirects=False, limits=httpx.Limits(max_connections=64))
        self.by_type: dict[str, Sender] = {
            "webhook": WebhookSender(self.http),
            "wecom": WecomSender(self.http),
            "dingtalk": DingtalkSender(self.http),
            "mqtt": MqttSender(),
            "email": EmailSender(),
        }

    def send(self, channel: object, message: Message) -> None:
        self.by_type[channel.type].send(channel, message)  # type: ignore[attr-defined]

    def close(self) -> None:
        for sender in self.by_type.values():
            sender.close()
        self.http.close()
