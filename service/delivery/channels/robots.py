"""WeCom (企业微信) and DingTalk (钉钉) group robots: a markdown message with the key facts.

Both answer HTTP 200 with `{"errcode": 0, "errmsg": "ok"}` on success; a non-zero errcode is a failure,
retried only for the codes that mean "busy" or "too fast". Chat robots cannot drop duplicates, so the
idempotency key is printed as `ref ...` at the foot of the message for people to spot one.
"""

from __future__ import annotations

import json

import httpx

from service.delivery.channels.base import Message, PermanentError, RetryableError, check_http, post
from service.delivery.config import DingtalkChannel, WecomChannel
from service.delivery.digest_messages import digest_markdown, digest_title, is_digest
from service.delivery.messages import markdown, title
from service.delivery.report_messages import is_report, report_markdown, report_title
from service.delivery.signing import dingtalk_signed_url

# -1: system busy (both); 45009: WeCom API frequency limit; 130101: DingTalk "send too fast".
RETRYABLE_ERRCODES = {-1, 45009, 130101}
WECOM_MARKDOWN_LIMIT = 4096
DINGTALK_MARKDOWN_LIMIT = 5000


def check_errcode(response: httpx.Response, platform: str) -> None:
    check_http(response)
    try:
        answer = response.json()
    except ValueError:
        raise RetryableError(f"{platform} answered non-JSON: {response.text[:200]}") from None
    code = answer.get("errcode", 0) if isinstance(answer, dict) else 0
    if code == 0:
        return
    detail = f"{platform} errcode {code}: {answer.get('errmsg', '')}"
    if code in RETRYABLE_ERRCODES:
        raise RetryableError(detail, retry_after=60.0)
    raise PermanentError(detail)


def _json(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _markdown(message: Message, limit: int) -> str:
    """A hazard's facts, a campaign report's summary with its link, or a cooldown digest's list."""
    lay_out = report_markdown if is_report(message.event) else digest_markdown if is_digest(message.event) else markdown
    return lay_out(message.event, message.idempotency_key, limit)


def _title(message: Message) -> str:
    if is_digest(message.event):
        return digest_title(message.event)
    return report_title(message.event) if is_report(message.event) else title(message.event)


def wecom_payload(message: Message) -> dict:
    return {"msgtype": "markdown", "markdown": {"content": _markdown(message, WECOM_MARKDOWN_LIMIT - 96)}}


def dingtalk_payload(channel: DingtalkChannel, message: Message) -> dict:
    text = _markdown(message, DINGTALK_MARKDOWN_LIMIT - 256)
    if channel.at_mobiles:  # DingTalk only notifies people whose @mobile appears in the text
        text += "\n\n" + " ".join(f"@{mobile}" for mobile in channel.at_mobiles)
    return {
        "msgtype": "markdown",
        "markdown": {"title": _title(message)[:64], "text": text},
        "at": {"atMobiles": list(channel.at_mobiles), "isAtAll": channel.at_all},
    }


class WecomSender:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def send(self, channel: WecomChannel, message: Message) -> None:
        headers = {"Content-Type": "application/json; charset=utf-8"}
        response = post(self.client, channel.url, _json(wecom_payload(message)), headers, channel.timeout_s)
        check_errcode(response, "WeCom")

    def close(self) -> None:
        pass


class DingtalkSender:
    def __init__(self, client: httpx.Client) -> None:
        self.client = client

    def send(self, channel: DingtalkChannel, message: Message) -> None:
        secret = channel.signing_secret
        url = dingtalk_signed_url(channel.url, secret) if secret else channel.url
        headers = {"Content-Type": "application/json; charset=utf-8"}
        response = post(self.client, url, _json(dingtalk_payload(channel, message)), headers, channel.timeout_s)
        check_errcode(response, "DingTalk")

    def close(self) -> None:
        pass
