"""What every channel shares: the message handed to it, and how a failure says whether to try again."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx

USER_AGENT = "clearway-delivery/0.1"
RETRYABLE_HTTP_4XX = (408, 429)


class DeliveryError(Exception):
    """A failed send. `permanent` ones go straight to dead; the others are retried with backoff."""

    permanent = False

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RetryableError(DeliveryError):
    """The receiver may take it later: timeouts, refused connections, 5xx, 408, 429, rate limits."""


class PermanentError(DeliveryError):
    """Sending again will not help: 4xx, an invalid robot key, an address the mail server refuses."""

    permanent = True


ImageLoader = Callable[[str], tuple[bytes, str] | None]


@dataclass(frozen=True)
class Message:
    """One delivery as a channel sees it. `event` carries `idempotency_key` and `recipient` too."""

    delivery_id: int
    idempotency_key: str
    attempt: int
    event: dict
    image: ImageLoader  # evidence kind, or a report's pdf/xlsx -> (bytes, media type), hash verified; None if missing
    camera_state: Callable[[], dict]  # the camera's active hazards now (MQTT retained state)


class Sender(Protocol):
    def send(self, channel: object, message: Message) -> None: ...

    def close(self) -> None: ...


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    parsed = email.utils.parsedate_to_datetime(value) if value else None
    return max(0.0, parsed.timestamp() - time.time()) if parsed else None


def check_http(response: httpx.Response) -> None:
    """2xx delivered; 4xx other than 408/429 permanent; everything else retried (honouring Retry-After)."""
    code = response.status_code
    if 200 <= code < 300:
        return
    detail = f"HTTP {code}: {response.text[:300]}".strip()
    if 400 <= code < 500 and code not in RETRYABLE_HTTP_4XX:
        raise PermanentError(detail)
    try:
        retry_after = _retry_after(response)
    except (TypeError, ValueError):
        retry_after = None
    raise RetryableError(detail, retry_after)


def post(client: httpx.Client, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> httpx.Response:
    """POST, with network trouble turned into a retryable failure."""
    try:
        return client.post(url, content=body, headers={"User-Agent": USER_AGENT} | headers, timeout=timeout_s)
    except httpx.TimeoutException:
        raise RetryableError(f"timed out after {timeout_s:g} s") from None
    except httpx.HTTPError as exc:
        raise RetryableError(f"{type(exc).__name__}: {exc}") from None
