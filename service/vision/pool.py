"""A bounded inference queue so model work never blocks the web server's event loop.

Back-pressure policy (documented in the README): when the queue is full a pushed frame is refused with
429 and Retry-After — the gateway still holds the frame and can send it again, so nothing is lost, and
the service never builds an unbounded backlog of stale frames. Each worker thread owns its own detector
(Ultralytics predictors are not thread-safe).

Batching (`batch` > 1): a worker that finds more frames waiting takes up to `batch` of them, waiting at most
`batch_wait_s` for more, and runs them through its model in one call (`detect_all`). On a GPU one call for
several frames costs little more than one; on this project's 2-core CPU it saved nothing (bench/batch_inference.py
in docs/speed.md), so the default is 1.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np

from service.vision.detector import Detector
from service.vision.types import Detections


class QueueFullError(RuntimeError):
    """All inference slots are taken; try again shortly."""


Item = tuple[np.ndarray, Future]


class InferencePool:
    def __init__(
        self,
        make_detector: Callable[[], Detector],
        workers: int = 1,
        capacity: int = 8,
        batch: int = 1,
        batch_wait_s: float = 0.0,
    ) -> None:
        self._queue: queue.Queue[Item | None] = queue.Queue(maxsize=capacity)
        self.batch, self.batch_wait_s = max(1, batch), max(0.0, batch_wait_s)
        self._threads: list[threading.Thread] = []
        self._ready = threading.Event()
        self._errors: list[BaseException] = []
        if workers == 0:  # a process that never runs the model (role ingest): ready, and refuses work
            self._errors.append(RuntimeError("this process runs no model (role ingest)"))
            self._ready.set()
        for index in range(workers):
            thread = threading.Thread(target=self._run, args=(make_detector,), name=f"inference-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, make_detector: Callable[[], Detector]) -> None:
        try:
            detector = make_detector()
        except BaseException as exc:  # surfaced to every caller, never silently swallowed
            self._errors.append(exc)
            self._ready.set()
            return
        self._ready.set()
        stopping = False
        while not stopping:
            items, stopping = self._take()
            items = [(image, future) for image, future in items if future.set_running_or_notify_cancel()]
            if not items:
                continue
            try:
                started = time.perf_counter()
                found = detect_all(detector, [image for image, _ in items])
                elapsed_ms = (time.perf_counter() - started) * 1000.0  # each frame waited for the whole call
                for (_, future), detections in zip(items, found, strict=True):
                    future.set_result((detections, elapsed_ms))
            except BaseException as exc:
                for _, future in items:
                    future.set_exception(exc)

    def _take(self) -> tuple[list[Item], bool]:
        """The next frame, and up to `batch - 1` more that wait (or arrive within `batch_wait_s`); True once a
        stop marker was taken (the frames before it are still done)."""
        first = self._queue.get()
        if first is None:
            return [], True
        items = [first]
        deadline = time.monotonic() + self.batch_wait_s
        while len(items) < self.batch:
            try:
                left = deadline - time.monotonic()
                item = self._queue.get(timeout=left) if left > 0 else self._queue.get_nowait()
            except queue.Empty:
                break
            if item is None:
                return items, True
            items.append(item)
        return items, False

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the model is loaded (True) or `timeout` passes (False); raise the load error if it failed."""
        ready = self._ready.wait(timeout)
        if self._errors:
            raise self._errors[0]
        return ready

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def submit(self, image: np.ndarray) -> Future[tuple[Detections, float]]:
        """Queue an image; the future gives (detections, inference milliseconds)."""
        if self._errors:
            raise self._errors[0]
        future: Future[tuple[Detections, float]] = Future()
        try:
            self._queue.put_nowait((image, future))
        except queue.Full:
            raise QueueFullError("inference queue is full") from None
        return future

    def close(self, timeout_s: float = 10.0) -> None:
        """Stop every worker once the frames already queued are done (one stop marker each). Markers are only
        offered while a worker is alive to take them: after a failed model load nobody drains the queue, and
        waiting for room there would hang."""
        deadline = time.monotonic() + timeout_s
        markers = len(self._threads)
        while markers and time.monotonic() < deadline and any(t.is_alive() for t in self._threads):
            try:
                self._queue.put(None, timeout=0.1)
                markers -= 1
            except queue.Full:
                continue
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))


def detect_all(detector: Detector, images: list[np.ndarray]) -> list[Detections]:
    """Several images through one model: in one call where the detector can (`detect_batch`), else one by one."""
    batched = getattr(detector, "detect_batch", None)
    if len(images) > 1 and batched is not None:
        return batched(images)
    return [detector.detect(image) for image in images]
