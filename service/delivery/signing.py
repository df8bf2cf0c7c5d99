"""Signatures: ours on webhooks (HMAC-SHA256 over `<timestamp>.<body>`), and DingTalk's signed robot URL.

`verify_webhook` is the reference implementation of the recipe in docs/delivery.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from urllib.parse import quote_plus

SIGNATURE_VERSION = "v1"
DEFAULT_TOLERANCE_S = 300


def sign_webhook(secret: str, timestamp: str, body: bytes) -> str:
    """`v1=<hex>`: HMAC-SHA256 keyed with the shared secret over the timestamp, a dot, and the raw body."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def verify_webhook(
    secret: str,
    timestamp: str,
    body: bytes,
    signature_header: str,
    now: float | None = None,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
) -> bool:
    """True for a genuine, fresh message. Several comma-separated signatures are accepted (secret rotation)."""
    try:
        age = abs((time.time() if now is None else now) - int(timestamp))
    except ValueError:
        return False
    if age > tolerance_s:
        return False
    expected = sign_webhook(secret, timestamp, body)
    return any(hmac.compare_digest(expected, candidate.strip()) for candidate in signature_header.split(","))


def dingtalk_signed_url(url: str, secret: str, timestamp_ms: int | None = None) -> str:
    """DingTalk 加签: sign = urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))), timestamp in ms."""
    timestamp = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    digest = hmac.new(secret.encode(), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    sign = quote_plus(base64.b64encode(digest).decode())
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}timestamp={timestamp}&sign={sign}"
