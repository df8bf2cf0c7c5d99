"""Ask an ONVIF device for its snapshot URL: GetSystemDateAndTime, GetCapabilities (where the media service
is), GetProfiles, GetSnapshotUri, with the WS-Security UsernameToken (password digest) ONVIF requires.

Hand-written SOAP rather than onvif-zeep: four fixed requests do not justify zeep, lxml and the ONVIF WSDLs
(megabytes, parsed at start-up). The answers are parsed with defusedxml (no entities, no external
references) and read by local names, since devices differ in namespace prefixes and versions.

The HTTP transport is passed in (`post`), so the caller's bounds apply (timeouts, size limit, stop()).
The device clock is asked first because devices refuse a token whose `Created` is far from their own time.
"""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeXML
from defusedxml import DefusedXmlException

Post = Callable[[str, bytes, str], tuple[int, bytes]]
"""post(url, SOAP envelope, action) -> (HTTP status, body); raises on transport failures."""

DEVICE = "http://www.onvif.org/ver10/device/wsdl"
MEDIA = "http://www.onvif.org/ver10/media/wsdl"
_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_DIGEST = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0#PasswordDigest"
_BASE64 = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-soap-message-security-1.0#Base64Binary"


class OnvifError(Exception):
    """The device refused or answered something unusable; the message names the step, never the password."""


def password_digest(nonce: bytes, created: str, password: str) -> str:
    """WS-Security UsernameToken digest: Base64(SHA-1(nonce + created + password))."""
    return base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest()).decode()


def security_header(username: str, password: str, now: datetime, nonce: bytes | None = None) -> str:
    nonce = nonce if nonce is not None else os.urandom(16)
    created = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    return (
        f'<wsse:Security s:mustUnderstand="1" xmlns:wsse="{_WSSE}" xmlns:wsu="{_WSU}"><wsse:UsernameToken>'
        f"<wsse:Username>{escape(username)}</wsse:Username>"
        f'<wsse:Password Type="{_DIGEST}">{password_digest(nonce, created, password)}</wsse:Password>'
        f'<wsse:Nonce EncodingType="{_BASE64}">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
        f"<wsu:Created>{created}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )


def envelope(body: str, header: str = "") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
        f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def parse(data: bytes, step: str, status: int = 200) -> Element:
    """The SOAP Body's first child; OnvifError for a fault (NotAuthorized named as such) or non-SOAP."""
    try:
        root = SafeXML.fromstring(data)
    except (SafeXML.ParseError, DefusedXmlException, ValueError):
        raise OnvifError(f"{step}: HTTP {status}, and the answer is not SOAP XML") from None
    body = root.find("{*}Body")
    if body is None or len(body) == 0:
        raise OnvifError(f"{step}: HTTP {status}, and the answer has no SOAP body")
    answer = body[0]
    if _local(answer.tag) == "Fault":
        codes = " ".join(e.text or "" for e in answer.iter() if _local(e.tag) == "Value")
        reason = next((e.text for e in answer.iter() if _local(e.tag) == "Text" and e.text), "")
        if "NotAuthorized" in codes or "FailedAuthentication" in codes:
            raise OnvifError(f"{step}: not authorised (check the username and password of the device's ONVIF user)")
        raise OnvifError(f"{step}: the device answered a fault: {(reason or codes).strip()[:200]}")
    return answer


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _text(element: Element, *path: str) -> str | None:
    found = element.find("/".join(f"{{*}}{name}" for name in path))
    return found.text.strip() if found is not None and found.text else None


class _Device:
    """One resolution: the device's clock offset, then authenticated requests."""

    def __init__(self, post: Post, username: str | None, password: str | None) -> None:
        self.post, self.username, self.password = post, username, password
        self.offset = timedelta(0)

    def call(self, url: str, namespace: str, operation: str, inner: str = "", secure: bool = True) -> Element:
        header = ""
        if secure and self.username is not None:
            header = security_header(self.username, self.password or "", datetime.now(UTC) + self.offset)
        request = envelope(f'<{operation} xmlns="{namespace}">{inner}</{operation}>', header)
        status, data = self.post(url, request, f"{namespace}/{operation}")
        if status == 401:  # HTTP authentication (some devices ask for it besides the token) failed
            raise OnvifError(f"{operation}: not authorised (check the username and password)")
        answer = parse(data, operation, status)  # faults come with 400 or 500
        if not 200 <= status < 300:
            raise OnvifError(f"{operation}: HTTP {status}")
        return answer

    def sync_clock(self, url: str) -> None:
        """Best effort: a device that does not say its time gets our clock in the token."""
        try:
            answer = self.call(url, DEVICE, "GetSystemDateAndTime", secure=False)
        except OnvifError:
            return
        utc = answer.find(".//{*}UTCDateTime")
        if utc is None:
            return
        try:
            fields = [int(_text(utc, *path) or "") for path in _CLOCK_FIELDS]
            device = datetime(*fields, tzinfo=UTC)  # type: ignore[misc]
        except ValueError:
            return
        self.offset = device - datetime.now(UTC)


_CLOCK_FIELDS = (
    ("Date", "Year"),
    ("Date", "Month"),
    ("Date", "Day"),
    ("Time", "Hour"),
    ("Time", "Minute"),
    ("Time", "Second"),
)


def snapshot_uri(post: Post, device_url: str, username: str | None, password: str | None, profile: str | None) -> str:
    """The snapshot URL of `profile` (default: the first profile) of the device at `device_url`."""
    device = _Device(post, username, password)
    device.sync_clock(device_url)
    capabilities = device.call(device_url, DEVICE, "GetCapabilities", "<Category>Media</Category>")
    media = reachable(_text(capabilities, "Capabilities", "Media", "XAddr") or device_url, device_url)
    profiles = device.call(media, MEDIA, "GetProfiles")
    tokens = [p.get("token", "") for p in profiles if _local(p.tag) == "Profiles" and p.get("token")]
    if not tokens:
        raise OnvifError("GetProfiles: the device has no media profile")
    if profile is not None and profile not in tokens:
        raise OnvifError(f"GetProfiles: no profile {profile!r}; the device has {', '.join(tokens)}")
    token = profile if profile is not None else tokens[0]
    answer = device.call(media, MEDIA, "GetSnapshotUri", f"<ProfileToken>{escape(token)}</ProfileToken>")
    uri = _text(answer, "MediaUri", "Uri")
    if not uri or not uri.lower().startswith(("http://", "https://")):
        raise OnvifError(f"GetSnapshotUri: profile {token!r} has no HTTP snapshot URL")
    return reachable(uri, device_url)


def reachable(address: str, device_url: str) -> str:
    """`address` with the host we reach the device by. Devices report their own LAN address, which is not
    ours behind NAT or on a second interface; their port and path are kept (the device knows those)."""
    ours, theirs = urlsplit(device_url), urlsplit(address)
    if not theirs.hostname or theirs.hostname == ours.hostname:
        return address
    host = f"[{ours.hostname}]" if ":" in (ours.hostname or "") else (ours.hostname or "")
    netloc = f"{host}:{theirs.port}" if theirs.port else host
    return urlunsplit((theirs.scheme, netloc, theirs.path, theirs.query, theirs.fragment))
