"""Readers for cameras that neither stream RTSP to us nor push: they are asked over HTTP.

`SnapshotReader` fetches a still every `interval_s` from a snapshot URL, or from the URL the device's
ONVIF media service gives (service/sources/onvif.py). `PullReader` is the lifecycle it shares with the
Dahua reader (service/sources/dahua_reader.py), the same as the RTSP reader's: a daemon thread per camera,
status starting/online/stalled/offline in `HealthState`, reconnect with `backoff_delay`, and a `stop()`
that returns at once and makes the thread emit nothing more. stop() also shuts the socket of the answer
being read, so even an event stream waiting for its next heartbeat ends promptly.

Every request is bounded: connect and read timeouts, a deadline on the whole answer, and a size limit
(`ReaderOptions.max_picture_bytes`) checked while reading. Messages never contain credentials.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import datetime

import httpx

from service.config.devices import DahuaSource, SnapshotSource
from service.sources.health import HealthState, utcnow
from service.sources.onvif import OnvifError, snapshot_uri
from service.sources.pull_http import Connection, PullFailure, credentials, describe, make_auth, read_body
from service.sources.reader import ReaderOptions, backoff_delay
from service.sources.urls import redact
from service.sources.view import ViewMonitor
from service.vision.decoding import Decoded, ImageRejectedError, decode
from service.vision.types import Frame

log = logging.getLogger(__name__)
_SOAP_MAX_BYTES = 1 * 2**20  # an ONVIF answer (a device with many profiles is still far below)


class PullReader:
    """One pulled camera on a daemon thread. Subclasses implement `_session`, which runs until it is
    stopped (return) or something fails (raise); the loop here then backs off and starts a new one."""

    kind = "pull"

    def __init__(
        self,
        camera_id: str,
        source: SnapshotSource | DahuaSource,
        state: HealthState,
        emit: Callable[[Frame], None],
        options: ReaderOptions | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.source = source
        self.state = state
        self.emit = emit
        self.options = options or ReaderOptions()
        self._broken: str | None = None  # settings that cannot be used (a password_env unset since start-up)
        try:
            self.url, self.username, self.password, self.secrets = credentials(source)
        except ValueError as exc:  # apply() must not fail for every camera because of one
            self.url, self.username, self.password, self.secrets = source.url, None, None, ()
            self._broken = f"settings: {exc}"
        self._stop = threading.Event()
        self._rng = random.Random()
        self._lock = threading.Lock()
        self._connection: Connection | None = None
        self._connected_before = False
        self._thread = threading.Thread(target=self._run, name=f"{self.kind}-{camera_id}", daemon=True)
        self._prepare()

    def _prepare(self) -> None:
        """What a subclass sets up from its settings (called at the end of __init__)."""

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Return at once; the thread ends after cutting its current read short, emitting nothing more."""
        self._stop.set()
        with self._lock:
            connection = self._connection
        if connection is not None:
            connection.interrupt()

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout`; True if the thread has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _timeout(self) -> httpx.Timeout:
        return httpx.Timeout(self.source.timeout_s)

    def _session(self, connection: Connection) -> None:
        raise NotImplementedError

    def _run(self) -> None:
        attempt = 0
        log.info("camera %s: %s reader for %s", self.camera_id, self.kind, redact(self.url, self.secrets))
        if self._broken is not None:
            self._failed(PullFailure(self._broken))
            return
        while not self._stop.is_set():
            connection = Connection(self._timeout())
            with self._lock:
                self._connection = connection
            if self._stop.is_set():  # stop() came before the connection existed
                connection.interrupt()
            started = time.monotonic()
            try:
                self._session(connection)
            except Exception as exc:
                self._failed(describe(exc, self.kind, self.source.timeout_s))
            finally:
                with self._lock:
                    self._connection = None
                connection.close()
            if self._stop.is_set():
                break
            if time.monotonic() - started >= self.options.backoff_reset_s:
                attempt = 0
            self._stop.wait(backoff_delay(attempt, self.options, self._rng))
            attempt += 1
        log.info("camera %s: reader stopped", self.camera_id)

    def _connected(self) -> None:
        """The device answered as it should: online (a reconnect when it had been before)."""
        if self._connected_before:
            self.state.add(reconnects=1)
        self._connected_before = True
        self.state.update(status="online")

    def _failed(self, failure: PullFailure) -> None:
        if self._stop.is_set():
            return
        message = redact(str(failure), self.secrets)
        log.warning("camera %s: %s", self.camera_id, message)
        self.state.update(status=failure.status, last_error=message)
        if failure.counter is not None:
            self.state.add(**{failure.counter: 1})

    def _fetch_picture(
        self, connection: Connection, url: str, auth: httpx.Auth | None, what: str, **kwargs: object
    ) -> bytes:
        """GET one picture, bounded in time and size; PullFailure when it is not a picture we take."""
        deadline = time.monotonic() + self.source.timeout_s
        with connection.stream("GET", url, auth=auth, what=what, **kwargs) as response:
            body = read_body(response, self.options.max_picture_bytes, deadline, what)
        if not body.startswith((b"\xff\xd8\xff", b"\x89PNG")):
            kind = response.headers.get("content-type", "no Content-Type")
            raise PullFailure(f"{what}: the answer is not a JPEG or PNG picture ({kind})", counter="decode_errors")
        return body

    def _picture(self, data: bytes, what: str) -> Decoded:
        try:
            return decode(data, self.options.max_pixels, self.options.decode_fit)
        except ImageRejectedError as exc:
            raise PullFailure(f"{what}: picture refused: {exc}", counter="decode_errors") from None

    def _emit(self, picture: Decoded, data: bytes, captured_at: datetime, hint: dict | None, **health: object) -> None:
        if self._stop.is_set():
            return
        frame = Frame(self.camera_id, captured_at, picture.image, self.kind, data, hint, picture.size)
        self.emit(frame)
        self.state.add(frames_decoded=1, frames_sampled=1)
        self.state.update(status="online", last_frame_at=captured_at, **health)


class SnapshotReader(PullReader):
    """A still every `interval_s` (captured_at: when it arrived, UTC). With `onvif: true` the snapshot URL is
    asked of the device (GetProfiles, GetSnapshotUri), kept, and asked again after any failure."""

    kind = "snapshot"
    source: SnapshotSource

    def _prepare(self) -> None:
        self._auth = make_auth(self.source.auth, self.username, self.password)
        self._soap_auth = make_auth("digest", self.username, self.password)  # some devices also want HTTP digest
        self._snapshot_url: str | None = None if self.source.onvif else self.url
        self._view = ViewMonitor()

    def _session(self, connection: Connection) -> None:
        source = self.source
        self._view.reset()
        first = True
        while not self._stop.is_set():
            began = time.monotonic()
            try:
                url = self._snapshot_url or self._resolve(connection)
                data = self._fetch_picture(connection, url, self._auth, "snapshot")
                picture = self._picture(data, "snapshot")
            except Exception:
                if source.onvif:
                    self._snapshot_url = None  # the device may have changed it: ask again next time
                raise
            if self._stop.is_set():
                return
            if first:
                self._connected()
                first = False
            problem = self._view.update(picture.image, time.monotonic())  # a covered or turned camera
            self._emit(picture, data, utcnow(), None, view_problem=problem)
            self._stop.wait(max(0.0, source.interval_s - (time.monotonic() - began)))

    def _resolve(self, connection: Connection) -> str:
        source = self.source

        def post(url: str, body: bytes, action: str) -> tuple[int, bytes]:
            headers = {"Content-Type": f'application/soap+xml; charset=utf-8; action="{action}"'}
            deadline = time.monotonic() + source.timeout_s
            what = f"ONVIF {action.rsplit('/', 1)[-1]}"
            with connection.stream(
                "POST", url, auth=self._soap_auth, what=what, check=False, content=body, headers=headers
            ) as r:
                return r.status_code, read_body(r, _SOAP_MAX_BYTES, deadline, what)

        try:
            uri = snapshot_uri(post, self.url, self.username, self.password, source.profile)
        except OnvifError as exc:
            raise PullFailure(f"ONVIF: {exc}", counter="connect_failures") from None
        log.info("camera %s: ONVIF snapshot URL %s", self.camera_id, redact(uri, self.secrets))
        self._snapshot_url = uri
        return uri
