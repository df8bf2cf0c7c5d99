"""Runs one reader per pulled camera and keeps the set in step with the site config, live.

The camera's `source` picks the reader: rtsp -> CameraReader, snapshot -> SnapshotReader, dahua -> DahuaReader.
All three share one lifecycle (start, stop at once, join) and one health model, so everything below treats
them alike. Pushed cameras (`source: push`) have no reader.

Frames from all readers go through one small hand-off that keeps only the newest undelivered frame
per camera: when the sink (inference queue) is slow the oldest sample is dropped and counted, and a
reader never waits for the sink. One delivery thread calls `on_frame`, so the sink needs no locking.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from prometheus_client import CollectorRegistry
from pydantic import BaseModel

from service.config.site import Camera
from service.sources.dahua_reader import DahuaReader
from service.sources.health import CameraHealth, HealthListener, HealthState, OfflineAlarm, OfflineEvent, utcnow
from service.sources.metrics import StreamMetrics
from service.sources.reader import CameraReader, ReaderOptions
from service.sources.snapshot_reader import SnapshotReader
from service.vision.types import Frame

log = logging.getLogger(__name__)


class Reader(Protocol):
    """What the supervisor needs of a reader, whatever it reads."""

    source: BaseModel

    def start(self) -> None: ...
    def stop(self) -> None: ...
    def join(self, timeout: float) -> bool: ...

    @property
    def alive(self) -> bool: ...


READERS: dict[str, Callable[..., Reader]] = {"rtsp": CameraReader, "snapshot": SnapshotReader, "dahua": DahuaReader}
"""camera.source -> reader class; the camera's settings are the section of the same name (camera.rtsp, ...)."""


class LatestFrames:
    """Newest undelivered frame per camera, handed out oldest-camera-first (fair across cameras)."""

    def __init__(self) -> None:
        self._frames: OrderedDict[str, Frame] = OrderedDict()
        self._cond = threading.Condition()
        self._closed = False

    def put(self, frame: Frame) -> bool:
        """Store the frame; True if it replaced one the sink had not taken yet (a drop)."""
        with self._cond:
            dropped = self._frames.pop(frame.camera_id, None) is not None
            self._frames[frame.camera_id] = frame
            self._cond.notify()
            return dropped

    def get(self, timeout: float) -> Frame | None:
        with self._cond:
            if not self._frames and not self._closed:
                self._cond.wait(timeout)
            if not self._frames:
                return None
            return self._frames.popitem(last=False)[1]

    def discard(self, camera_id: str) -> None:
        with self._cond:
            self._frames.pop(camera_id, None)

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class StreamSupervisor:
    """Starts, stops and restarts camera readers as the config changes, without a service restart.

    on_frame: receives every sampled frame, from one delivery thread; may block briefly.
    on_health_change(current, previous): called on every status or view-problem transition
        (previous is None when a camera is first added), from the reader's thread.
    on_offline: optional; receives `camera_offline` raised/cleared events decided by `OfflineAlarm`
        with `offline_after_s` (checked every second, since "still offline" is no transition).
    """

    def __init__(
        self,
        on_frame: Callable[[Frame], None],
        on_health_change: HealthListener | None = None,
        registry: CollectorRegistry | None = None,
        offline_after_s: float = 300,
        *,
        on_offline: Callable[[OfflineEvent], None] | None = None,
        options: ReaderOptions | None = None,
    ) -> None:
        self._on_frame = on_frame
        self._on_health_change = on_health_change
        self._on_offline = on_offline
        self._options = options or ReaderOptions()
        self._lock = threading.RLock()
        self._readers: dict[str, Reader] = {}
        self._states: dict[str, HealthState] = {}
        self._retired: list[Reader] = []
        self._alarm = OfflineAlarm(offline_after_s)
        self._alarm_lock = threading.Lock()
        self._frames = LatestFrames()
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._deliver_loop, name="rtsp-deliver", daemon=True),
            threading.Thread(target=self._alarm_loop, name="rtsp-offline", daemon=True),
        ]
        for thread in self._threads:
            thread.start()
        self.metrics = StreamMetrics(registry, self.health) if registry is not None else None

    # -- config -----------------------------------------------------------------------------------

    def apply(self, cameras: list[Camera]) -> None:
        """Make the running readers match `cameras` (pushed cameras are ignored). Never blocks on I/O."""
        wanted: dict[str, tuple[str, BaseModel]] = {
            c.id: (c.source, getattr(c, c.source)) for c in cameras if c.source in READERS and getattr(c, c.source)
        }
        with self._lock:
            if self._stopping.is_set():
                raise RuntimeError("supervisor is stopped")
            for camera_id in list(self._readers):
                if camera_id not in wanted:
                    self._retire(camera_id)
                    self._states.pop(camera_id).detach()
                    self._frames.discard(camera_id)
                    self._offline_events(self._alarm.forget, camera_id, utcnow())
                    log.info("camera %s: removed", camera_id)
            for camera_id, (kind, source) in wanted.items():
                running = self._readers.get(camera_id)
                if running is not None and type(running) is READERS[kind] and running.source == source:
                    continue
                previous = None
                if running is not None:
                    self._retire(camera_id)
                    previous = self._states.pop(camera_id).detach()
                    log.info("camera %s: settings changed, restarting its reader", camera_id)
                self._start(camera_id, kind, source, previous)
            self._retired = [r for r in self._retired if r.alive]

    def _start(self, camera_id: str, kind: str, source: BaseModel, previous: CameraHealth | None) -> None:
        initial = previous if previous is not None else CameraHealth(camera_id)
        state = HealthState(replace(initial, last_error=None), self._health_changed)
        reader = READERS[kind](camera_id, source, state, self._emit_for(camera_id, state), self._options)
        self._states[camera_id] = state
        self._readers[camera_id] = reader
        if previous is None:
            state.announce()
        else:
            self._health_changed(state.snapshot(), previous)
        reader.start()

    def _retire(self, camera_id: str) -> None:
        reader = self._readers.pop(camera_id)
        reader.stop()  # it exits after its current read; it emits nothing more
        self._retired.append(reader)

    def _emit_for(self, camera_id: str, state: HealthState) -> Callable[[Frame], None]:
        def emit(frame: Frame) -> None:
            if self._frames.put(frame):
                state.add(frames_dropped=1)

        return emit

    # -- state ------------------------------------------------------------------------------------

    def health(self) -> dict[str, CameraHealth]:
        with self._lock:
            states = dict(self._states)
        return {camera_id: state.snapshot() for camera_id, state in sorted(states.items())}

    def offline_alarms(self) -> set[str]:
        """Cameras whose `camera_offline` alarm is currently raised."""
        with self._alarm_lock:
            return self._alarm.raised()

    def _health_changed(self, current: CameraHealth, previous: CameraHealth | None) -> None:
        if previous is None or current.status != previous.status:
            log.info("camera %s: %s", current.camera_id, current.status)
        if self._on_health_change is not None:
            try:
                self._on_health_change(current, previous)
            except Exception:
                log.exception("on_health_change failed for camera %s", current.camera_id)
        self._offline_events(self._alarm.observe, current, utcnow())

    def _offline_events(self, method: Callable[..., list[OfflineEvent]], *args: object) -> None:
        with self._alarm_lock:
            events = method(*args)
        for event in events:
            log.warning("camera %s: camera_offline %s", event.camera_id, event.action)
            if self._on_offline is not None:
                try:
                    self._on_offline(event)
                except Exception:
                    log.exception("on_offline failed for camera %s", event.camera_id)

    # -- threads ----------------------------------------------------------------------------------

    def _deliver_loop(self) -> None:
        while not self._stopping.is_set():
            frame = self._frames.get(timeout=0.5)
            if frame is None:
                continue
            try:
                self._on_frame(frame)
            except Exception:
                log.exception("on_frame failed for camera %s", frame.camera_id)

    def _alarm_loop(self) -> None:
        interval = min(1.0, max(0.05, self._alarm.offline_after_s / 10))
        while not self._stopping.wait(interval):
            self._offline_events(self._alarm.due, utcnow())

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop every reader and wait up to `timeout` for them (readers blocked in a read finish within
        their read timeout on their own; they are daemon threads). True if all ended in time."""
        with self._lock:
            self._stopping.set()
            for camera_id in list(self._readers):
                self._retire(camera_id)
                self._states.pop(camera_id).detach()
            retired, self._retired = self._retired, []
        self._frames.close()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for reader in retired:
            reader.join(max(0.0, deadline - time.monotonic()))
        return not any(reader.alive for reader in retired)
