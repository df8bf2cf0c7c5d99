"""Webhook: the event as JSON, POSTed and signed so the receiver can trust it and drop duplicates."""

from __future__ import annotations

import base64
import hashlib
import json
import time

import httpx

from service.delivery.channels.base import Message, check_http, post
from service.delivery.config import WebhookChannel
from service.delivery.lift_commands import is_lift_command
from service.delivery.report_messages import is_report
from service.delivery.signing import sign_webhook


def webhook_body(channel: WebhookChannel, message: Message) -> bytes:
    event = dict(message.event)
    if channel.include_thumbnail and not is_report(event) and not is_lift_command(event):
        found = message.image("thumbnail")
        event["thumbnail"] = (
            {"media_type": found[1], "sha256": hashlib.sha256(found[0]).hexdigest(), "base64": b64(found[0])}
            if found
            else None
        )
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class WebhookSender:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def send(self, channel: WebhookChannel, message: Message) -> None:
        body = webhook_body(channel, message)
        timestamp = str(int(time.time()))
        headers = channel.headers | {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": message.idempotency_key,
            "X-Clearway-Event": message.event["event"],
            "X-Clearway-Delivery": str(message.delivery_id),
            "X-Clearway-Attempt": str(message.attempt),
            "X-Clearway-Timestamp": timestamp,
            "X-Clearway-Signature": sign_webhook(channel.signing_secret, timestamp, body),
        }
        check_http(post(self.client, channel.url, body, headers, channel.timeout_s))

    def close(self) -> None:
        pass
