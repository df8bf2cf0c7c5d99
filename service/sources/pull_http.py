"""HTTP for the pulled cameras (snapshots, ONVIF, Dahua streams): credentials, basic/digest/auto auth, one
connection whose socket stop() can shut, bounded body reads, and failures described without secrets."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Generator, Iterator
from urllib.parse import quote, unquote, urlsplit, urlunsplit

import httpx

from service.config.devices import DahuaSource, SnapshotSource
from service.sources.health import Status
from service.sources.urls import redact

log = logging.getLogger(__name__)

log = logging.getLogger(__name__)
_MIN_SECRET_LEN = 3  # as service/sources/urls.py: shorter secrets would redact ordinary words

# -- HTTP basics shared with the Dahua reader -----------------------------------------------------------


class PullFailure(Exception):
    """A failed request or a refused answer. `counter`: the CameraHealth counter it adds to (None: none)."""

    def __init__(self, message: str, status: Status = "offline", counter: str | None = "connect_failures") -> None:
        super().__init__(message)
        self.status: Status = status
        self.counter = counter


def credentials(source: SnapshotSource | DahuaSource) -> tuple[str, str | None, str | None, tuple[str, ...]]:
    """(URL without user:pass@, username, password, every spelling of the password to redact). The
    separate fields win over credentials in the URL; httpx would otherwise send those as Basic itself."""
    parts = urlsplit(source.url)
    userinfo, _, host = parts.netloc.rpartition("@")
    url_user, _, url_password = userinfo.partition(":")
    url = urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))
    username = source.username or unquote(url_user) or None
    password = source.secret if source.secret is not None else (unquote(url_password) or None)
    found = {s for s in (password, unquote(url_password)) if s}
    spellings = {v for s in found for v in (s, quote(s, safe=""), quote(s))}
    secrets = tuple(sorted((s for s in spellings if len(s) >= _MIN_SECRET_LEN), key=len, reverse=True))
    return url, username, password, secrets


class AutoAuth(httpx.Auth):
    """`auth: auto`: ask without credentials; on a 401 answer the scheme its WWW-Authenticate names (Digest
    preferred, then Basic), and keep that scheme for every later request (no second probe)."""

    def __init__(self, username: str, password: str) -> None:
        self._username, self._password = username, password
        self.chosen: httpx.Auth | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.chosen is not None:
            yield from self.chosen.auth_flow(request)
            return
        response = yield request
        schemes = [value.split(" ", 1)[0].lower() for value in response.headers.get_list("www-authenticate")]
        if response.status_code != 401:
            return
        if "digest" in schemes:
            self.chosen = httpx.DigestAuth(self._username, self._password)
            flow = self.chosen.auth_flow(request)
            next(flow)  # the unauthenticated request it would send: we already have its 401
            try:
                request = flow.send(response)
                while True:
                    request = flow.send((yield request))
            except StopIteration:
                return
        elif "basic" in schemes:
            self.chosen = httpx.BasicAuth(self._username, self._password)
            yield from self.chosen.auth_flow(request)


def make_auth(mode: str, username: str | None, password: str | None) -> httpx.Auth | None:
    if username is None:
        return None
    if mode == "basic":
        return httpx.BasicAuth(username, password or "")
    if mode == "digest":
        return httpx.DigestAuth(username, password or "")
    return AutoAuth(username, password or "")


class Connection:
    """One reader's HTTP client and the answer it is reading now, so that `interrupt()` (from stop(), on
    another thread) can shut that socket and end a read that would otherwise wait for its timeout."""

    def __init__(self, timeout: httpx.Timeout) -> None:
        # trust_env=False: cameras sit on the site's LAN; a proxy from the environment would not reach them.
        self.client = httpx.Client(timeout=timeout, trust_env=False, follow_redirects=True, max_redirects=3)
        self._lock = threading.Lock()
        self._live: list[httpx.Response] = []  # the Dahua reader fetches a snapshot inside its event stream
        self._interrupted = False

    @contextlib.contextmanager
    def stream(
        self, method: str, url: str, *, auth: httpx.Auth | None, what: str, check: bool = True, **kwargs: object
    ) -> Iterator[httpx.Response]:
        """The answer, streamed; with `check`, PullFailure for any status but 2xx (401, 403, 404 explained)."""
        headers = {"Accept-Encoding": "identity", **kwargs.pop("headers", {})}  # type: ignore[dict-item]
        request = self.client.build_request(method, url, headers=headers, **kwargs)  # type: ignore[arg-type]
        response = self.client.send(request, auth=auth, stream=True)
        with self._lock:
            self._live.append(response)
            interrupted = self._interrupted
        try:
            if interrupted:
                raise PullFailure(f"{what}: stopped", counter=None)
            if check:
                _check_status(response, what)
            yield response
        finally:
            with self._lock:
                self._live.remove(response)
            response.close()

    def interrupt(self) -> None:
        with self._lock:
            self._interrupted = True
            live = list(self._live)
        for response in live:
            stream = response.extensions.get("network_stream")
            sock = stream.get_extra_info("socket") if stream is not None else None
            if sock is not None:
                with contextlib.suppress(OSError):  # already closed
                    sock.shutdown(socket.SHUT_RDWR)  # wakes the reading thread: its read ends at once

    def close(self) -> None:
        self.client.close()


_REASONS = {
    401: "not authorised (check the username and password)",
    403: "forbidden (the user lacks the permission)",
    404: "404 Not Found (wrong path, or the function is off on the device?)",
}


def _check_status(response: httpx.Response, what: str) -> None:
    code = response.status_code
    if not 200 <= code < 300:
        raise PullFailure(f"{what}: {_REASONS.get(code, f'HTTP {code} {response.reason_phrase}'.rstrip())}")


def read_body(response: httpx.Response, limit: int, deadline: float, what: str) -> bytes:
    """The whole answer, refused (counted) once it passes `limit` bytes or takes past `deadline`."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PullFailure(f"{what}: answer of {declared} bytes refused (the limit is {limit})", counter="decode_errors")
    body = bytearray()
    for chunk in response.iter_raw():
        body += chunk
        if len(body) > limit:
            raise PullFailure(f"{what}: answer longer than {limit} bytes refused", counter="decode_errors")
        if time.monotonic() > deadline:
            raise PullFailure(f"{what}: the answer took too long", status="stalled")
    return bytes(body)


def describe(exc: BaseException, what: str, timeout_s: float) -> PullFailure:
    """A credential-free failure for anything a session raised (httpx never puts the password in text,
    but a URL may hold user:pass@; the reader redacts every message as well)."""
    if isinstance(exc, PullFailure):
        return exc
    if isinstance(exc, httpx.ConnectTimeout):
        return PullFailure(f"{what}: no connection within {timeout_s:g}s")
    if isinstance(exc, httpx.TimeoutException):
        return PullFailure(f"{what}: no answer within the timeout (device stalled)", status="stalled")
    if isinstance(exc, httpx.ConnectError):
        return PullFailure(f"{what}: cannot connect ({exc})")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return PullFailure(f"{what}: connection lost ({exc or type(exc).__name__})", counter=None)
    return PullFailure(redact(f"{what} failed: {type(exc).__name__}: {exc}"))
