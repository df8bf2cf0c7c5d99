"""One lock per camera: its frames, and the operator actions on its scene model, happen one at a time."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager


class CameraLocks:
    def __init__(self) -> None:
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    @contextmanager
    def one(self, camera_id: str) -> Iterator[None]:
        with self._guard:
            lock = self._locks.setdefault(camera_id, threading.Lock())
        with lock:
            yield

    @contextmanager
    def all(self, camera_ids: Iterable[str]) -> Iterator[None]:
        """These cameras' locks and every one known, in a fixed order (no deadlock): no frame is mid-way."""
        with self._guard:
            known = set(self._locks)
        with ExitStack() as stack:
            for camera_id in sorted(known | set(camera_ids)):
                stack.enter_context(self.one(camera_id))
            yield
