"""Real local receivers for delivery tests: an HTTP server, an SMTP server (aiosmtpd), an MQTT subscriber.

Each runs in its own thread on 127.0.0.1; waits are bounded (`wait_for`), never sleeps-as-assertions.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from tests.support import free_port, wait_until


@dataclass
class Received:
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


Answer = tuple  # (status, JSON-able body or bytes[, headers])


class HttpReceiver:
    """A real HTTP server. `respond(request)` gives each answer; the default is 200 {"ok": true}."""

    def __init__(self, respond: Callable[[Received], Answer] | None = None, port: int | None = None) -> None:
        self.respond = respond or (lambda request: (200, {"ok": True}))
        self.port = port or free_port()
        self.requests: list[Received] = []
        self._changed = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                parts = urlsplit(self.path)
                request = Received(
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                status, body, *extra = receiver.respond(request)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                with receiver._changed:  # recorded before answering: a sender that got the answer sees it here
                    receiver.requests.append(request)
                    receiver._changed.notify_all()
                self.send_response(status)
                for name, value in (extra[0] if extra else {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def wait_for(self, count: int, timeout_s: float = 15.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.requests) >= count, timeout_s)


@dataclass
class Scripted:
    """Answers from a script (e.g. [500, 500]) for the first requests, then `then`."""

    script: list[int] = field(default_factory=list)
    then: int = 200

    def __call__(self, request: Received) -> Answer:
        status = self.script.pop(0) if self.script else self.then
        return status, {"status": status}


class DedupReceiver:
    """What the docs tell a receiver to do: verify the signature, then process each idempotency key once."""

    def __init__(self, verify: Callable[[Received], bool], respond: Callable[[Received], Answer] | None = None):
        self.verify = verify
        self.inner = respond or (lambda request: (200, {"ok": True}))
        self.processed: dict[str, dict] = {}
        self.duplicates = 0
        self.bad_signatures = 0

    def __call__(self, request: Received) -> Answer:
        if not self.verify(request):
            self.bad_signatures += 1
            return 401, {"error": "bad signature"}
        status, body = self.inner(request)
        if 200 <= status < 300:
            key = request.headers["idempotency-key"]
            if key in self.processed:
                self.duplicates += 1
            else:
                self.processed[key] = request.json()
        return status, body


class SmtpServer:
    """aiosmtpd on a free port; `refuse` addresses get 550 at RCPT."""

    def __init__(self, refuse: tuple[str, ...] = (), port: int | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list = []
        self.refuse = refuse
        self._changed = threading.Condition()
        self.port = port or free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        with self._changed:
            self.messages.append(envelope)
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    def wait_for(self, count: int, timeout_s: float = 15.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: len(self.messages) >= count, timeout_s)


class MqttSubscriber:
    """Subscribes to `<prefix>/#` on a real broker and keeps every message (topic, payload, retain)."""

    def __init__(self, prefix: str, host: str = "127.0.0.1", port: int = 1883) -> None:
        import paho.mqtt.client as mqtt

        self.prefix = prefix
        self.messages: list[tuple[str, bytes, bool]] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"cw-test-{uuid.uuid4().hex[:10]}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: self._subscribed.set()
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()
        self.client.subscribe(f"{prefix}/#", qos=1)
        if not self._subscribed.wait(10):
            raise TimeoutError("MQTT subscription not acknowledged")

    def _on_message(self, client: object, userdata: object, message: object) -> None:
        with self._changed:
            self.messages.append((message.topic, message.payload, bool(message.retain)))  # type: ignore[attr-defined]
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[tuple[str, bytes, bool]]], bool], timeout_s: float = 15.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.messages), timeout_s)

    def on(self, suffix: str) -> list[dict]:
        with self._changed:
            return [json.loads(p) for t, p, _ in self.messages if t.endswith(suffix) and p.startswith(b"{")]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_reachable(host: str, port: int, timeout_s: float) -> bool:
    """Bounded wait for a server we just started to accept connections."""
    return wait_until(lambda: broker_reachable(host, port, 0.5) is None, timeout_s)


def broker_reachable(host: str = "127.0.0.1", port: int = 1883, timeout_s: float = 2.0) -> str | None:
    """None when something listens there, else the reason."""
    deadline = time.monotonic() + timeout_s
    try:
        with socket.create_connection((host, port), timeout=max(0.1, deadline - time.monotonic())):
            return None
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
