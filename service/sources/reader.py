"""One camera's RTSP reader: connect, sample, and keep reconnecting, on its own thread.

Threads rather than asyncio tasks: every PyAV call (open, read, decode) blocks in C with the GIL
released, so an asyncio design would still need one executor thread per camera (a read may block
for its whole timeout) and would add a thread hop per packet; see docs/streams.md for the figures.

Nothing here can hang: PyAV's interrupt callback bounds every open (open_timeout_s) and every read
(read_timeout_s); FFmpeg's own socket timeout is set as well. A stream that stops sending is
"stalled"; one that ends, refuses or errors is "offline"; both reconnect with exponential backoff
and jitter.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import av
import av.error

from service.config.site import RtspSource
from service.sources.decode import SampledDecoder
from service.sources.health import HealthState, Status, utcnow
from service.sources.urls import display_url, effective_url, redact, secrets_of
from service.sources.view import ViewMonitor
from service.vision.types import Frame

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReaderOptions:
    """Knobs that are not per camera. Defaults suit production; tests shorten the backoff."""

    backoff_initial_s: float = 1.0
    backoff_max_s: float = 60.0
    backoff_reset_s: float = 30.0  # a connection that lasted this long starts the backoff afresh
    probe_s: float = 1.0  # how long FFmpeg may analyse the stream while opening
    max_clock_skew_s: float = 60.0  # trust the camera's clock (RTCP) only this close to ours
    max_consecutive_decode_errors: int = 50
    frame_stall_min_s: float = 20.0  # packets but no picture for this long (at least) is a stall
    max_picture_bytes: int = 10 * 2**20  # snapshot and Dahua readers: a larger picture is refused
    max_pixels: int = 40_000_000  # ...and so is one with more pixels (decompression-bomb guard)
    decode_fit: int | None = None  # JPEG stills decoded to this long side, the model's (None: in full)


_TIMEOUT_SHARE = 0.9  # a call that failed after this share of its timeout is counted as timed out


class StreamStalled(Exception):
    """The stream stopped producing pictures (no data, or no decodable frame) within its timeout."""


class StreamEnded(Exception):
    """The server ended the stream (EOF or BYE)."""


def backoff_delay(attempt: int, options: ReaderOptions, rng: random.Random) -> float:
    """Exponential backoff with equal jitter: half the delay fixed, half random, so a site's cameras
    that dropped together (switch reboot) do not all reconnect at the same instant."""
    delay = min(options.backoff_max_s, options.backoff_initial_s * 2 ** min(attempt, 30))
    return delay / 2 + rng.uniform(0, delay / 2)


def describe_error(exc: BaseException, during: str, source: RtspSource, timed_out: bool = False) -> tuple[Status, str]:
    """Status and a credential-free message for a failure while opening or reading.

    `timed_out`: the call had already lasted its whole timeout. FFmpeg does not always surface our
    interrupt as ExitError (an RTSP handshake cut short reports "invalid data"), so time decides.
    """
    if isinstance(exc, StreamStalled):
        return "stalled", str(exc)
    if timed_out or isinstance(exc, av.error.ExitError):  # our interrupt callback: the timeout expired
        if during == "open":
            return "offline", f"open timed out after {source.open_timeout_s:g}s"
        return "stalled", f"no data for {source.read_timeout_s:g}s (stream stalled)"
    if isinstance(exc, StreamEnded | EOFError):
        return "offline", "stream ended (EOF)"
    if isinstance(exc, av.error.HTTPNotFoundError):
        return "offline", f"{during} failed: 404 Not Found (wrong stream path?)"
    if isinstance(exc, av.error.HTTPUnauthorizedError | av.error.HTTPForbiddenError):
        return "offline", f"{during} failed: not authorised (check the credentials)"
    if isinstance(exc, ConnectionRefusedError):
        return "offline", f"{during} failed: connection refused"
    if isinstance(exc, av.error.FFmpegError):
        text = exc.strerror or type(exc).__name__  # str(exc) would include the URL
    else:
        text = f"{type(exc).__name__}: {exc}"
    return "offline", redact(f"{during} failed: {text}", secrets_of(source))


class CameraReader:
    """Pulls one camera on a daemon thread and hands sampled frames to `emit` (which must not block).

    `stop()` returns at once; the thread finishes its current read (at most read_timeout_s) and
    exits without emitting anything more, so a restart never delivers frames from the old config.
    """

    def __init__(
        self,
        camera_id: str,
        source: RtspSource,
        state: HealthState,
        emit: Callable[[Frame], None],
        options: ReaderOptions | None = None,
    ) -> None:
        self.camera_id = camera_id
        self.source = source
        self.state = state
        self.emit = emit
        self.options = options or ReaderOptions()
        self._stop = threading.Event()
        self._rng = random.Random()
        self._view = ViewMonitor()
        self._last_packet = 0.0
        self._thread = threading.Thread(target=self._run, name=f"rtsp-{camera_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout`; True if the thread has ended."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        attempt, connected_before = 0, False
        log.info("camera %s: reading %s", self.camera_id, display_url(self.source))
        while not self._stop.is_set():
            opening = time.monotonic()
            try:
                container = self._open()
            except Exception as exc:
                timed_out = time.monotonic() - opening >= _TIMEOUT_SHARE * self.source.open_timeout_s
                status, message = describe_error(exc, "open", self.source, timed_out)
                self._failed(status, message, connect_failure=True)
                self._stop.wait(backoff_delay(attempt, self.options, self._rng))
                attempt += 1
                continue
            if connected_before:
                self.state.add(reconnects=1)
            connected_before = True
            started = self._last_packet = time.monotonic()
            try:
                self._read(container)
            except Exception as exc:
                silent = time.monotonic() - self._last_packet >= _TIMEOUT_SHARE * self.source.read_timeout_s
                self._failed(*describe_error(exc, "read", self.source, silent))
            finally:
                self._close(container)
            if self._stop.is_set():
                break
            if time.monotonic() - started >= self.options.backoff_reset_s:
                attempt = 0
            self._stop.wait(backoff_delay(attempt, self.options, self._rng))
            attempt += 1
        log.info("camera %s: reader stopped", self.camera_id)

    def _failed(self, status: Status, message: str, connect_failure: bool = False) -> None:
        if self._stop.is_set():
            return
        log.warning("camera %s: %s", self.camera_id, message)
        self.state.update(status=status, last_error=message)
        if connect_failure:
            self.state.add(connect_failures=1)

    def _open(self) -> av.container.InputContainer:
        src = self.source
        options = {
            "rtsp_transport": src.transport,
            "allowed_media_types": "video",
            "timeout": str(int(src.read_timeout_s * 1e6)),  # FFmpeg's socket I/O timeout, in µs
            "analyzeduration": str(int(self.options.probe_s * 1e6)),
            "probesize": "1000000",
        }
        container = av.open(
            effective_url(src), mode="r", options=options, timeout=(src.open_timeout_s, src.read_timeout_s)
        )
        if not container.streams.video:
            container.close()
            raise ValueError("the stream has no video track")
        return container

    @staticmethod
    def _close(container: av.container.InputContainer) -> None:
        try:
            container.close()
        except Exception:  # closing a dead connection may fail; nothing to recover
            log.debug("close failed", exc_info=True)

    def _read(self, container: av.container.InputContainer) -> None:
        """Demux, decode what the schedule needs, deliver. Returns only when stopped; raises otherwise."""
        src = self.source
        stream = container.streams.video[0]
        decoder = SampledDecoder(stream.codec_context, src.sample_interval_s, src.decode)
        self._view.reset()
        opened = time.monotonic()
        last_picture = opened
        reported = (0, 0)
        self._last_packet = opened
        for packet in container.demux(stream):
            if self._stop.is_set():
                return
            if packet.size == 0:
                continue  # PyAV's flush packets at EOF
            now = self._last_packet = time.monotonic()
            t = float(packet.pts * packet.time_base) if packet.pts is not None else now - opened
            frames = decoder.push(packet, t)
            counts = (decoder.frames_decoded, decoder.decode_errors)
            if counts != reported:
                self.state.add(frames_decoded=counts[0] - reported[0], decode_errors=counts[1] - reported[1])
                reported = counts
            if decoder.consecutive_errors > self.options.max_consecutive_decode_errors:
                raise StreamStalled(f"{decoder.consecutive_errors} decode errors in a row")
            for frame in frames:
                if self._stop.is_set():
                    return
                self._deliver(container, frame, t, decoder)
                last_picture = now
            limit = max(
                self.options.frame_stall_min_s,
                src.read_timeout_s,
                3 * src.sample_interval_s,
                2 * (decoder.keyframe_interval_s or 0.0),
            )
            if now - last_picture > limit:
                raise StreamStalled(f"data but no picture for {limit:g}s (stream stalled)")
        raise StreamEnded

    def _deliver(
        self, container: av.container.InputContainer, frame: av.VideoFrame, t: float, decoder: SampledDecoder
    ) -> None:
        image = frame.to_ndarray(format="bgr24")
        ft = float(frame.time) if frame.time is not None else t
        captured_at, offset = self._capture_time(container.start_time_realtime, ft)
        self.emit(Frame(camera_id=self.camera_id, captured_at=captured_at, image=image, source="rtsp"))
        self.state.add(frames_sampled=1)
        self.state.update(
            status="online",
            last_frame_at=captured_at,
            view_problem=self._view.update(image, time.monotonic()),
            decode_mode=decoder.mode,
            keyframe_interval_s=decoder.keyframe_interval_s,
            clock_offset_s=offset,
        )

    def _capture_time(self, realtime_us: int | None, stream_s: float) -> tuple[datetime, float | None]:
        """Capture time from the stream (RTCP sender report: the camera's wall clock at the frame's RTP
        timestamp) when the camera sent one and its clock is plausible; arrival time otherwise.
        Never in the future, so a camera clock running slightly ahead cannot reorder events."""
        now = utcnow()
        if realtime_us is None:
            return now, None
        stream_time = realtime_us / 1e6 + stream_s
        offset = stream_time - now.timestamp()
        if abs(offset) > self.options.max_clock_skew_s:
            return now, offset
        return min(now, datetime.fromtimestamp(stream_time, UTC)), offset
