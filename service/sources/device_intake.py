"""Pictures that devices push (Hikvision alarm server, FTP upload) or that pull readers fetch, into the pipeline.

Why a queue: a device that pushes wants its answer at once (Hikvision firmware retries, some blocks, on a slow
answer), while the model takes tens of milliseconds per picture. Receivers validate and `submit`; worker
threads decode and process, in the order received. A full queue refuses at once (the receiver answers 503 and
the device sends again later) instead of letting memory grow: counted as `queue_full`, like every refusal.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from service.metrics import Metrics
from service.store.disk import DiskFullError, DiskGuard
from service.vision.decoding import ImageRejectedError, decode
from service.vision.types import Frame

log = logging.getLogger("clearway.devices")


@dataclass(frozen=True)
class DevicePicture:
    """One picture from a device, as received: not decoded yet."""

    camera_id: str
    captured_at: datetime  # aware UTC
    data: bytes  # the JPEG as sent: evidence keeps these bytes
    source: str  # hikvision | ftp | dahua | snapshot
    hint: dict | None = None  # the device's own detection (event type, target, region): shown, never trusted


class DeviceIntake:
    def __init__(
        self,
        process: Callable[[Frame], object],
        metrics: Metrics,
        max_pixels: int,
        capacity: int = 64,
        workers: int = 1,
        disk: DiskGuard | None = None,
        decode_fit: int | None = None,
    ) -> None:
        self._process = process
        self._decode_fit = decode_fit  # JPEGs decoded to the model's size (service/vision/decoding.py)
        self._disk = disk
        self._metrics = metrics
        self._max_pixels = max_pixels
        self._queue: queue.Queue[DevicePicture | None] = queue.Queue(capacity)
        self._threads = [
            threading.Thread(target=self._work, name=f"device-intake-{n}", daemon=True) for n in range(workers)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, picture: DevicePicture) -> bool:
        """Queue the picture; False (counted) when the queue is full. DiskFullError (counted) when the disk is
        below its free-space threshold: the receiver answers 507 (alarm server) or 452 (FTP)."""
        if self._disk is not None:
            try:
                self._disk.check()
            except DiskFullError:
                self._metrics.reject("disk_full")
                self._metrics.device_pictures.labels(source=picture.source, outcome="disk_full").inc()
                raise
        try:
            self._queue.put_nowait(picture)
        except queue.Full:
            self._metrics.reject("queue_full")
            self._metrics.device_pictures.labels(source=picture.source, outcome="queue_full").inc()
            return False
        self._metrics.device_pictures.labels(source=picture.source, outcome="queued").inc()
        return True

    def join(self) -> None:
        """Wait until every picture submitted so far is processed (tests, and an orderly stop)."""
        self._queue.join()

    def _work(self) -> None:
        while True:
            picture = self._queue.get()
            try:
                if picture is None:
                    return
                self._handle(picture)
            finally:
                self._queue.task_done()

    def _handle(self, picture: DevicePicture) -> None:
        try:
            decoded = decode(picture.data, self._max_pixels, self._decode_fit)
        except ImageRejectedError as exc:
            self._metrics.reject(exc.reason)
            self._metrics.device_pictures.labels(source=picture.source, outcome=exc.reason).inc()
            log.warning("%s picture for %s refused: %s", picture.source, picture.camera_id, exc)
            return
        frame = Frame(
            camera_id=picture.camera_id,
            captured_at=picture.captured_at,
            image=decoded.image,
            source=picture.source,
            encoded=picture.data,
            hint=picture.hint,
            size=decoded.size,
        )
        try:
            self._process(frame)
        except Exception:  # one bad picture must not stop the intake
            log.exception("%s picture for %s could not be processed", picture.source, picture.camera_id)
            self._metrics.device_pictures.labels(source=picture.source, outcome="processing_error").inc()
            return
        self._metrics.device_pictures.labels(source=picture.source, outcome="processed").inc()

    def close(self, timeout_s: float = 10.0) -> None:
        for _ in self._threads:
            try:
                self._queue.put(None, timeout=timeout_s)
            except queue.Full:
                break
        for thread in self._threads:
            thread.join(timeout_s)
