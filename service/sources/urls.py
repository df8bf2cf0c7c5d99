"""Camera URLs with credentials, and the one function that keeps those credentials out of text.

Credentials may sit in the URL (rtsp://user:pass@host/...) or in the separate username/password
fields. Everything the streams package logs or stores as `last_error` goes through `redact`.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from service.config.site import RtspSource

REDACTED = "***"
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<userinfo>[^/@\s'\"]*)@")
_MIN_SECRET_LEN = 3  # shorter secrets would redact ordinary words; the URL pattern still covers them


def effective_url(source: RtspSource) -> str:
    """The URL handed to FFmpeg: separate username/password win over credentials in the URL."""
    if source.username is None:
        return source.url
    parts = urlsplit(source.url)
    host = parts.netloc.rsplit("@", 1)[-1]
    userinfo = quote(source.username, safe="")
    if source.password is not None:
        userinfo += ":" + quote(source.password, safe="")
    return urlunsplit((parts.scheme, f"{userinfo}@{host}", parts.path, parts.query, parts.fragment))


def secrets_of(source: RtspSource) -> tuple[str, ...]:
    """Every spelling of the password that could leak into a message (plain and percent-encoded)."""
    found: set[str] = set()
    if source.password:
        found.add(source.password)
    userinfo = urlsplit(source.url).netloc.rpartition("@")[0]
    if ":" in userinfo:
        found.add(unquote(userinfo.split(":", 1)[1]))
    spellings = {s for secret in found for s in (secret, quote(secret, safe=""), quote(secret))}
    return tuple(sorted((s for s in spellings if len(s) >= _MIN_SECRET_LEN), key=len, reverse=True))


def redact(text: str, secrets: tuple[str, ...] = ()) -> str:
    """Remove `user:pass@` from any URL in `text`, then any literal occurrence of a known secret."""
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def display_url(source: RtspSource) -> str:
    """The URL without credentials, safe for logs and the API."""
    return redact(source.url, secrets_of(source))
