"""The built-in FTP server that cameras and NVRs upload pictures to ("FTP upload" on an event or a schedule).

Why a server of our own: Hikvision and Dahua devices can send a picture on each event (or every N seconds)
to an FTP server and to nothing simpler; a separate FTP server plus a folder watcher would keep files, need its
own accounts and race the watcher. Here the protocol is pyftpdlib's (a well-kept, pure-Python server) and the
rest is ours:

- logins are the site file's cameras (`Camera.ftp`), checked against the site as it is now (`site()`), so a
  camera added or a password changed in the site file applies without a restart; the password is compared in
  constant time and never logged; an unknown login goes to the unknown-devices register;
- upload only: each login is jailed in its own empty folder (it may make directories, change into them and
  STOR); no listing, no download, no delete, no rename, no append, no resume;
- a picture is read, checked (size, JPEG/PNG magic bytes) and handed to the device intake *before* the device
  gets its answer, then deleted: nothing is kept. The answer says what happened: 226 queued, 552 too large,
  550 not a picture / unknown channel, 451 queue full (the device may send it again);
- one IO-loop thread serves every connection (each step is short: a local file read and a queue put).

Every outcome is counted in `clearway_device_events_total{source="ftp", outcome}`.
"""

from __future__ import annotations

import hmac
import logging
import os
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from service.config.site import Camera, Site
from service.metrics import Metrics
from service.sources.device_intake import DevicePicture
from service.sources.device_lookup import camera_for_device, camera_for_ftp_user
from service.sources.ftp_names import parse_upload_name
from service.sources.unknown_devices import UnknownDevices
from service.store.disk import DiskFullError

log = logging.getLogger("clearway.ftp")
logging.getLogger("pyftpdlib").addHandler(logging.NullHandler())  # the app's logging decides, not pyftpdlib's
SOURCE = "ftp"
PERMISSIONS = "emw"  # cwd, mkdir, store: what a device needs to build its folders and upload
MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
POLL_S = 0.2  # how long the IO loop waits per turn: the bound on noticing close()


class PictureSink(Protocol):
    def submit(self, picture: DevicePicture) -> bool: ...


def parse_port_range(text: str) -> range:
    """'30000-30009' (or one port, '30000') -> range(30000, 30010); ValueError when it is no port range."""
    low, _, high = text.strip().partition("-")
    first, last = int(low), int(high or low)
    if not 1 <= first <= last <= 65535:
        raise ValueError(f"{text!r} is not a port range such as 30000-30009")
    return range(first, last + 1)


@dataclass(frozen=True)
class FtpOptions:
    port: int  # 0: any free port (tests read `FtpIntake.address`)
    host: str = "0.0.0.0"
    passive_ports: range | None = None  # None: any free port per transfer
    masquerade_address: str | None = None  # the address told in PASV replies, behind NAT or Docker
    max_file_bytes: int = 10 * 1024 * 1024
    spool_dir: Path | None = None  # uploads wait in a fresh folder inside it (default: the system's temp)
    max_connections: int = 128
    max_connections_per_ip: int = 16  # an NVR may upload several channels at once
    idle_timeout_s: float = 120.0
    auth_failure_delay_s: float = 3.0  # before a refusal is answered: slows password guessing
    max_clock_skew_s: float = 300.0  # a name this far in the future is not believed

    @classmethod
    def from_settings(cls, settings: Any) -> FtpOptions | None:
        """From `Settings` (service/config/settings.py); None when the FTP server is off (no `ftp_port`)."""
        if settings.ftp_port is None:
            return None
        ports = settings.ftp_passive_ports
        return cls(
            port=settings.ftp_port,
            host=settings.ftp_host,
            passive_ports=parse_port_range(ports) if ports else None,
            masquerade_address=settings.ftp_masquerade_address,
            max_file_bytes=settings.ftp_max_file_bytes,
            spool_dir=settings.data_dir,
            max_clock_skew_s=settings.max_clock_skew_s,
        )


class _Refused(Exception):
    """Not taken; the one argument is the answer for the device."""


class FtpIntake:
    """Start with `start()`, stop with `close()` (bounded); the thread, the folder and the sockets are its own.

    Everything but start/close runs on the IO-loop thread (pyftpdlib calls it back), so nothing here locks."""

    def __init__(
        self,
        options: FtpOptions,
        site: Callable[[], Site],
        intake: PictureSink,
        metrics: Metrics,
        unknown: UnknownDevices,
    ) -> None:
        self.options, self._site, self._intake, self._metrics, self._unknown = options, site, intake, metrics, unknown
        self._spool: Path | None = None
        self._server: FTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._sessions: Counter[str] = Counter()  # logged-in sessions per login

    @property
    def address(self) -> tuple[str, int]:
        assert self._server is not None, "not started"
        return self._server.address

    def start(self) -> FtpIntake:
        o = self.options
        o.spool_dir.mkdir(parents=True, exist_ok=True)
        self._spool = Path(tempfile.mkdtemp(prefix="clearway-ftp-", dir=o.spool_dir))
        handler = type("UploadHandler", (_UploadHandler,), {"intake": self, "authorizer": _SiteAuthorizer(self)})
        handler.dtp_handler = type("UploadChannel", (_UploadChannel,), {"timeout": o.idle_timeout_s})
        handler.passive_ports = list(o.passive_ports) if o.passive_ports else None
        handler.masquerade_address = o.masquerade_address
        handler.timeout, handler.auth_failed_timeout = o.idle_timeout_s, o.auth_failure_delay_s
        handler.banner = "Clearway picture upload ready."
        try:
            self._server = FTPServer((o.host, o.port), handler, ioloop=IOLoop())
        except Exception:
            shutil.rmtree(self._spool, ignore_errors=True)
            raise
        self._server.max_cons, self._server.max_cons_per_ip = o.max_connections, o.max_connections_per_ip
        self._thread = threading.Thread(target=self._serve, name="ftp-server", daemon=True)
        self._thread.start()
        log.info("FTP picture upload listening on %s:%s", *self.address)
        return self

    def _serve(self) -> None:
        assert self._server is not None
        while not self._stop.is_set():
            if not self._server.ioloop.socket_map:  # pyftpdlib closes its listener on an error it cannot handle
                log.error("FTP server: the listening socket is closed; FTP uploads stop until a restart")
                break
            try:
                self._server.ioloop.loop(POLL_S, blocking=False)
            except Exception:  # pyftpdlib handles a connection's errors itself; this is the last resort
                log.exception("FTP server: an error in the IO loop; serving on")
        self._server.close_all()  # open transfers end incomplete: their files are removed

    def close(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            if self._thread.is_alive():
                log.warning("the FTP server thread did not stop within %.0f s", timeout_s)
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)

    # --- called back by pyftpdlib, on the IO-loop thread

    def count(self, outcome: str) -> None:
        self._metrics.device_events.labels(source=SOURCE, outcome=outcome).inc()

    def camera(self, username: str) -> Camera | None:
        return camera_for_ftp_user(self._site(), username)

    def home(self, username: str) -> Path:
        assert self._spool is not None
        folder = self._spool / username  # usernames are [A-Za-z0-9][A-Za-z0-9_.-]*: a plain folder name
        folder.mkdir(exist_ok=True)
        return folder

    def authenticate(self, username: str, password: str, address: str) -> None:
        camera = self.camera(username)
        try:
            expected = camera.ftp.secret if camera and camera.ftp else None
        except ValueError:  # its password_env went missing since start-up
            expected = None
        if camera is None:
            hmac.compare_digest(password.encode(), b"\0" * 16)  # about the same work as for a known login
            self.count("unknown_device")
            self._unknown.heard(SOURCE, username, None, address, "login", datetime.now(UTC))
            log.warning("FTP login refused from %s: %r is no camera's FTP user", address, username)
            raise AuthenticationFailed("Authentication failed.")
        if expected is None or not hmac.compare_digest(password.encode(), expected.encode()):
            self.count("bad_password")
            log.warning("FTP login refused from %s: wrong password for %r (camera %s)", address, username, camera.id)
            raise AuthenticationFailed("Authentication failed.")

    def may(self, username: str, permission: str, path: str | None) -> bool:
        """Only cwd, mkdir and store, only inside the login's own folder, only while the login exists."""
        if permission not in PERMISSIONS or self.camera(username) is None:
            return False
        return path is None or Path(os.path.realpath(path)).is_relative_to(self.home(username).resolve())

    def hand_off(self, username: str, address: str, path: str) -> None:
        """Read, delete and queue one received file; _Refused (counted) with the answer when it is not taken."""
        now = datetime.now(UTC)
        relative = Path(path).relative_to(self.home(username)).as_posix()
        try:
            data = Path(path).read_bytes()
            os.remove(path)
        except OSError as exc:
            raise self._refuse("incomplete", "451 The upload could not be read; send it again.") from exc
        site = self._site()
        login = camera_for_ftp_user(site, username)
        if login is None:
            raise self._refuse("unknown_device", "550 This login is no camera's any more.")
        if not data.startswith(MAGIC):
            log.info("FTP upload %s for %s refused: not a JPEG or PNG picture", relative, login.id)
            raise self._refuse("not_image", "550 Only JPEG or PNG pictures are accepted.")
        name = parse_upload_name(relative, site.zone)
        camera = _camera_on_channel(site, login, name.channel)
        if camera is None:
            self._unknown.heard(SOURCE, username, name.channel, address, relative, now)
            raise self._refuse("unknown_channel", f"550 No camera is channel {name.channel} of this login.")
        captured_at = name.captured_at
        if captured_at is None:
            self.count("unparsed_name")
            captured_at = now
        elif captured_at > now + timedelta(seconds=self.options.max_clock_skew_s):
            self.count("bad_time")
            captured_at = now
        vendor = camera.device.vendor if camera.device else (name.style or "other")
        hint = {"vendor": vendor, "event": name.event, "file": relative}
        try:
            queued = self._intake.submit(DevicePicture(camera.id, captured_at, data, SOURCE, hint))
        except DiskFullError:
            log.warning("FTP picture %s for %s refused: the disk is nearly full", relative, camera.id)
            raise self._refuse("disk_full", "452 Insufficient storage space; send again later.") from None
        if not queued:
            log.warning("FTP picture %s for %s dropped: the device queue is full", relative, camera.id)
            raise self._refuse("queue_full", "451 Too many pictures waiting; send again shortly.")
        self.count("accepted")

    def _refuse(self, outcome: str, reply: str) -> _Refused:
        self.count(outcome)
        return _Refused(reply)

    def session(self, username: str, opened: bool) -> None:
        """A login's last session gone, its folder goes too (leftovers, the device's empty folders)."""
        self._sessions[username] += 1 if opened else -1
        if self._sessions[username] <= 0:
            del self._sessions[username]
            assert self._spool is not None
            shutil.rmtree(self._spool / username, ignore_errors=True)


def _camera_on_channel(site: Site, login: Camera, channel: int | None) -> Camera | None:
    """An NVR uploads all its channels with one login: the channel in the name picks the camera of the same
    device (`Camera.device`). Without a `device`, the login alone decides."""
    device = login.device
    if channel is None or device is None or device.channel == channel:
        return login
    return camera_for_device(site, device.vendor, channel, device.mac, device.serial, device.address)


class _SiteAuthorizer(DummyAuthorizer):
    """pyftpdlib's user table, replaced by the current site file."""

    def __init__(self, intake: FtpIntake) -> None:
        super().__init__()
        self._intake = intake

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        self._intake.authenticate(username, password, handler.remote_ip)

    def get_home_dir(self, username: str) -> str:
        return str(self._intake.home(username))

    def has_user(self, username: str) -> bool:
        return self._intake.camera(username) is not None

    def has_perm(self, username: str, perm: str, path: str | None = None) -> bool:
        return self._intake.may(username, perm, path)

    def get_perms(self, username: str) -> str:
        return PERMISSIONS

    def get_msg_login(self, username: str) -> str:
        return "Logged in: upload pictures."


class _UploadHandler(FTPHandler):
    """The control connection: session bookkeeping, and no resuming (a resumed upload could outgrow the cap)."""

    intake: FtpIntake
    refused: set[str]
    _login: str | None = None

    def on_login(self, username: str) -> None:
        self._login, self.refused = username, set()
        self.intake.session(username, opened=True)

    def on_logout(self, username: str) -> None:
        self.on_disconnect()

    def on_disconnect(self) -> None:
        if self._login is not None:
            self.intake.session(self._login, opened=False)
            self._login = None

    def on_incomplete_file_received(self, file: str) -> None:
        Path(file).unlink(missing_ok=True)
        if file in getattr(self, "refused", ()):
            self.refused.discard(file)  # refused by us, and counted then
        else:
            self.intake.count("incomplete")  # the device hung up, or the data connection timed out

    def on_file_received(self, file: str) -> None:
        Path(file).unlink(missing_ok=True)  # handed off already (`_UploadChannel.handle_close`)

    def ftp_REST(self, line: str) -> None:
        self.respond("502 Resuming uploads is not supported.")


class _UploadChannel(DTPHandler):
    """The data connection of an upload: capped while it arrives, handed off before the device is answered."""

    cmd_channel: _UploadHandler

    def handle_read(self) -> None:
        super().handle_read()
        limit = self.cmd_channel.intake.options.max_file_bytes
        if self._receiving() and self.tot_bytes_received > limit:
            self.cmd_channel.intake.count("too_large")
            self._refuse(f"552 Pictures may be at most {limit} bytes; transfer aborted.")

    handle_read_event = handle_read  # DTPHandler binds its own handle_read under this name

    def handle_close(self) -> None:
        if self._receiving():
            self.file_obj.close()  # flushed: the whole upload is on disk
            handler = self.cmd_channel
            try:
                handler.intake.hand_off(handler.username, handler.remote_ip, self.file_obj.name)
            except _Refused as refused:
                self._refuse(refused.args[0])
                return
        super().handle_close()  # 226

    def _receiving(self) -> bool:
        return self.receive and self.file_obj is not None and not self.file_obj.closed

    def _refuse(self, reply: str) -> None:
        handler = self.cmd_channel
        handler.refused.add(self.file_obj.name)
        self.close()  # not finished: on_incomplete_file_received removes the file
        handler.respond(reply)
