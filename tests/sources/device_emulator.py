"""Devices that do not push, on 127.0.0.1: a Dahua camera (digest auth, attach streams, snapshot.cgi), an ONVIF
device (GetSystemDateAndTime, GetCapabilities, GetProfiles, GetSnapshotUri, UsernameToken checked) and a plain
snapshot URL (basic or digest). One threaded HTTP server; each test scripts what the attach streams send.

The streams are written in small chunks, so the reader's parser meets parts split anywhere.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import os
import threading
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from urllib.request import parse_http_list, parse_keqv_list

import numpy as np
from PIL import Image

BOUNDARY = "myboundary"
REPORTED_HOST = "192.0.2.10"  # what the ONVIF device says its address is (TEST-NET: not ours)


def jpeg(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    """A distinct small JPEG (noise, so it is neither black nor covered nor frozen)."""
    rgb = np.random.default_rng(seed).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


@dataclass(frozen=True)
class Step:
    kind: str  # event | heartbeat | stall | close | raw
    code: str = ""
    action: str = "Start"
    index: int = 0
    data: dict = field(default_factory=dict)
    picture: bool = True  # snapshots mode: the JPEG after the event's text part
    seconds: float = 0.0
    raw: bytes = b""


def event(code: str, action: str = "Start", data: dict | None = None, picture: bool = True, index: int = 0) -> Step:
    return Step("event", code, action, index, data or {}, picture)


def heartbeat() -> Step:
    return Step("heartbeat")


def stall(seconds: float) -> Step:
    return Step("stall", seconds=seconds)


def _part(content_type: str, body: bytes) -> bytes:
    head = f"--{BOUNDARY}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    return head.encode() + body + b"\r\n"


def _fields(step: Step) -> bytes:
    lines = [
        f"Events[0].EventBaseInfo.Code={step.code}",
        f"Events[0].EventBaseInfo.Action={step.action}",
        f"Events[0].EventBaseInfo.Index={step.index}",
    ]

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}", inner)
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                walk(f"{prefix}[{i}]", inner)
        else:
            lines.append(f"{prefix}={value}")

    for key, value in step.data.items():
        walk(f"Events[0].{key}", value)
    return ("\r\n".join(lines) + "\r\n").encode()


class DeviceEmulator:
    """Start, script, point readers at `url`, stop. Counters say what the readers asked for."""

    def __init__(self, username: str = "admin", password: str = "Emu-Secret-42") -> None:
        self.username, self.password, self.realm = username, password, "Login to emulator"
        self.scripts: list[list[Step]] = [[]]  # one per attach connection; the last one repeats
        self.after = "heartbeats"  # when a script ends: heartbeats | hang | close
        self.snapshot_auth = "digest"  # the plain snapshot URL: none | basic | digest
        self.snapshot_type = "image/jpeg"
        self.snapshot_body: bytes | None = None  # None: a fresh JPEG each time
        self.onvif_snapshot_path = "/onvif/snap-a.jpg"
        self.clock_offset = timedelta(minutes=7)  # the device's clock is off; tokens must follow it
        self.attach_answer: bytes | None = None  # instead of a stream, a text/plain answer (old firmware)
        self.requests: Counter[str] = Counter()
        self.attach_queries: list[dict[str, list[str]]] = []
        self.authorizations: list[str] = []
        self.heartbeats_sent = 0
        self.scripts_done = 0
        self.chunk = 97
        self._nonces: set[str] = set()
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._seed = 0
        emulator = self

        class Handler(_Handler):
            emu = emulator

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, name="device-emulator", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> DeviceEmulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._closing.set()
        self.server.shutdown()
        self.server.server_close()

    def next_jpeg(self, size: tuple[int, int] = (64, 48)) -> bytes:
        with self._lock:
            self._seed += 1
            return jpeg(self._seed, size)

    def count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.requests[key] += n

    def challenge(self) -> str:
        nonce = os.urandom(12).hex()
        with self._lock:
            self._nonces.add(nonce)
        return f'Digest realm="{self.realm}", qop="auth", nonce="{nonce}", opaque="{os.urandom(8).hex()}"'

    def digest_ok(self, header: str, method: str, path: str) -> bool:
        if not header.lower().startswith("digest "):
            return False
        f = parse_keqv_list(parse_http_list(header[7:]))
        with self._lock:
            known = f.get("nonce") in self._nonces
        if not known or f.get("username") != self.username or f.get("uri") != path:
            return False
        ha1 = _md5(f"{self.username}:{self.realm}:{self.password}")
        ha2 = _md5(f"{method}:{path}")
        expected = _md5(f"{ha1}:{f['nonce']}:{f.get('nc')}:{f.get('cnonce')}:{f.get('qop')}:{ha2}")
        return hmac.compare_digest(expected, f.get("response", ""))

    def basic_ok(self, header: str) -> bool:
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return hmac.compare_digest(header, f"Basic {token}")

    def token_ok(self, envelope: ET.Element) -> bool:
        """WS-Security UsernameToken with PasswordDigest, Created near the device's own clock."""
        token = envelope.find(".//{*}UsernameToken")
        if token is None:
            return False
        values = {child.tag.rsplit("}", 1)[-1]: (child.text or "") for child in token}
        try:
            nonce = base64.b64decode(values.get("Nonce", ""))
            created = datetime.strptime(values.get("Created", ""), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        except ValueError:
            return False
        digest = hashlib.sha1(nonce + values["Created"].encode() + self.password.encode()).digest()
        fresh = abs(created - (datetime.now(UTC) + self.clock_offset)) < timedelta(seconds=60)
        return (
            fresh
            and values.get("Username") == self.username
            and values.get("Password") == base64.b64encode(digest).decode()
        )

    def script_for(self, connection: int) -> list[Step]:
        return self.scripts[min(connection, len(self.scripts) - 1)]


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


_SOAP = (
    '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" {ns}>'
    "<s:Body>{body}</s:Body></s:Envelope>"
)
_NS = " ".join(
    f'xmlns:{prefix}="http://www.onvif.org/ver10/{name}"'
    for prefix, name in (("tds", "device/wsdl"), ("trt", "media/wsdl"), ("tt", "schema"), ("ter", "error"))
)


class _Handler(BaseHTTPRequestHandler):
    emu: DeviceEmulator

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _send(self, code: int, body: bytes, content_type: str = "text/plain", headers: dict | None = None) -> None:
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _digest(self) -> bool:
        header = self.headers.get("Authorization", "")
        self.emu.authorizations.append(header.split(" ", 1)[0])
        if self.emu.digest_ok(header, self.command, self.path):
            return True
        self._send(401, b"<html>401 Unauthorized</html>", "text/html", {"WWW-Authenticate": self.emu.challenge()})
        return False

    def do_GET(self) -> None:
        emu, url = self.emu, urlsplit(self.path)
        query = parse_qs(url.query)
        if url.path in ("/cgi-bin/snapManager.cgi", "/cgi-bin/eventManager.cgi"):
            if not self._digest():
                return
            emu.count(url.path.rsplit("/", 1)[-1])
            with emu._lock:
                emu.attach_queries.append(query)
                connection = len(emu.attach_queries) - 1
            if emu.attach_answer is not None:
                self._send(200, emu.attach_answer)
                return
            mode = "snapshots" if "snapManager" in url.path else "events"
            self._stream(mode, emu.script_for(connection), float(query.get("heartbeat", ["5"])[0]))
        elif url.path == "/cgi-bin/snapshot.cgi":
            if self._digest():
                emu.count("snapshot.cgi")
                self._send(200, emu.next_jpeg(), "image/jpeg")
        elif url.path in ("/snap.jpg", emu.onvif_snapshot_path):
            if emu.snapshot_auth == "digest" and not self._digest():
                return
            header = self.headers.get("Authorization", "")
            if emu.snapshot_auth != "digest":
                emu.authorizations.append(header.split(" ", 1)[0])
            if emu.snapshot_auth == "basic" and not emu.basic_ok(header):
                self._send(401, b"no", headers={"WWW-Authenticate": f'Basic realm="{emu.realm}"'})
                return
            emu.count(url.path)
            self._send(200, emu.snapshot_body or emu.next_jpeg(), emu.snapshot_type)
        else:
            self._send(404, b"not found")

    def _write(self, data: bytes) -> None:
        for i in range(0, len(data), self.emu.chunk):
            self.wfile.write(data[i : i + self.emu.chunk])

    def _stream(self, mode: str, script: list[Step], heartbeat_s: float) -> None:
        emu = self.emu
        self.send_response(200)
        self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
        self.end_headers()
        try:
            for step in script:
                if step.kind == "heartbeat":
                    self._write(_part("text/plain", b"Heartbeat"))
                    with emu._lock:
                        emu.heartbeats_sent += 1
                elif step.kind == "event" and mode == "snapshots":
                    self._write(_part("text/plain", _fields(step)))
                    if step.picture:
                        self._write(_part("image/jpeg", emu.next_jpeg()))
                elif step.kind == "event":
                    line = f"Code={step.code};action={step.action};index={step.index}"
                    data = f";data={json.dumps(step.data, indent=1)}" if step.data else ""
                    self._write(_part("text/plain", (line + data + "\r\n").encode()))
                elif step.kind == "stall" and emu._closing.wait(step.seconds):
                    return
                elif step.kind == "raw":
                    self._write(step.raw)
                elif step.kind == "close":
                    return
            with emu._lock:
                emu.scripts_done += 1
            while emu.after != "close" and not emu._closing.wait(heartbeat_s):
                if emu.after == "heartbeats":
                    self._write(_part("text/plain", b"Heartbeat"))
                    with emu._lock:
                        emu.heartbeats_sent += 1
        except OSError:  # the reader went away (reconnect, stop)
            return

    def do_POST(self) -> None:
        emu, path = self.emu, urlsplit(self.path).path
        if path not in ("/onvif/device_service", "/onvif/media_service"):
            self._send(404, b"not found")
            return
        envelope = ET.fromstring(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
        body = envelope.find("{*}Body")
        operation = body[0].tag.rsplit("}", 1)[-1] if body is not None and len(body) else ""
        emu.count(operation)
        if operation != "GetSystemDateAndTime" and not emu.token_ok(envelope):
            fault = (
                "<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>ter:NotAuthorized</s:Value>"
                "</s:Subcode></s:Code><s:Reason><s:Text>Sender not Authorized</s:Text></s:Reason></s:Fault>"
            )
            self._soap(400, fault)
            return
        port = self.server.server_address[1]
        now = datetime.now(UTC) + emu.clock_offset
        answers = {
            "GetSystemDateAndTime": (
                "<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:UTCDateTime>"
                f"<tt:Time><tt:Hour>{now.hour}</tt:Hour><tt:Minute>{now.minute}</tt:Minute>"
                f"<tt:Second>{now.second}</tt:Second></tt:Time><tt:Date><tt:Year>{now.year}</tt:Year>"
                f"<tt:Month>{now.month}</tt:Month><tt:Day>{now.day}</tt:Day></tt:Date>"
                "</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>"
            ),
            "GetCapabilities": (
                "<tds:GetCapabilitiesResponse><tds:Capabilities><tt:Media>"
                f"<tt:XAddr>http://{REPORTED_HOST}:{port}/onvif/media_service</tt:XAddr>"
                "</tt:Media></tds:Capabilities></tds:GetCapabilitiesResponse>"
            ),
            "GetProfiles": (
                '<trt:GetProfilesResponse><trt:Profiles token="Profile_1"><tt:Name>main</tt:Name></trt:Profiles>'
                '<trt:Profiles token="Profile_2"><tt:Name>sub</tt:Name></trt:Profiles></trt:GetProfilesResponse>'
            ),
            "GetSnapshotUri": (
                "<trt:GetSnapshotUriResponse><trt:MediaUri>"
                f"<tt:Uri>http://{REPORTED_HOST}:{port}{emu.onvif_snapshot_path}</tt:Uri>"
                "</trt:MediaUri></trt:GetSnapshotUriResponse>"
            ),
        }
        device_operation = operation in ("GetSystemDateAndTime", "GetCapabilities")
        if operation not in answers or (path == "/onvif/device_service") != device_operation:
            self._soap(400, "<s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code></s:Fault>")
            return
        self._soap(200, answers[operation])

    def _soap(self, code: int, body: str) -> None:
        self._send(code, _SOAP.format(ns=_NS, body=body).encode(), "application/soap+xml; charset=utf-8")
