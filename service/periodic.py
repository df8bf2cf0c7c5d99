"""A job run at once and then every interval on a daemon thread, until closed: the report schedule and the
retention clean-up. A round that fails is logged and the next one goes on; `stop` is set on close, so a job
that works in batches can end between two of them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("clearway.periodic")


class Periodic:
    def __init__(self, name: str, job: Callable[[], object], stop: threading.Event | None = None) -> None:
        self.name = name
        self.job = job
        self.stop = stop or threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, interval_s: float) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, args=(interval_s,), name=self.name, daemon=True)
            self._thread.start()

    def _serve(self, interval_s: float) -> None:
        while not self.stop.is_set():
            try:
                self.job()
            except Exception:
                log.exception("%s: round failed; the next one goes on after the interval", self.name)
            if self.stop.wait(interval_s):
                return

    def close(self, timeout_s: float = 60) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
            self._thread = None
