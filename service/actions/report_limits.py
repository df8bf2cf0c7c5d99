"""Abuse limits for the public report form: reports per client address and per compound in a sliding window.

Counted in this process (one service process per county); a restart forgets them, which errs on the side of
the resident. The limits come from `ReportSettings` (CLEARWAY_REPORTS_PER_CLIENT, _PER_COMPOUND, _WINDOW_S).
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque

from service.actions.errors import ActionError
from service.config.report_settings import ReportSettings

MAX_KEYS = 50_000  # beyond this many tracked addresses the stale ones are swept


class RateLimited(ActionError):
    """Too many reports from one address or for one compound: try again after `retry_after` seconds."""

    reason = "rate_limited"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ReportLimits:
    """Sliding windows of admitted reports, keyed "client:<address>" and "compound:<id>"; thread-safe."""

    def __init__(self, clock=time.monotonic) -> None:
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._clock = clock

    def _window(self, key: str, now: float, window_s: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= now - window_s:
            hits.popleft()
        return hits

    def _sweep(self, now: float, window_s: float) -> None:
        for key in [k for k, hits in self._hits.items() if not hits or hits[-1] <= now - window_s]:
            del self._hits[key]

    def admit(self, client: str, compound_id: str, settings: ReportSettings) -> None:
        """Count one report, or raise RateLimited (counting nothing) when either window is full."""
        now, window = self._clock(), settings.window_s
        checks = ((f"client:{client}", settings.per_client, "from this address"),)
        checks += ((f"compound:{compound_id}", settings.per_compound, f"for compound {compound_id}"),)
        with self._lock:
            if len(self._hits) > MAX_KEYS:
                self._sweep(now, window)
            windows = []
            for key, limit, what in checks:
                hits = self._window(key, now, window)
                if len(hits) >= limit:
                    retry = max(1, math.ceil(hits[0] + window - now))
                    raise RateLimited(f"too many reports {what}: at most {limit} per {window:.0f} s", retry)
                windows.append(hits)
            for hits in windows:
                hits.append(now)


_made = threading.Lock()


def limits_of(holder: object) -> ReportLimits:
    """The limits kept on `holder` (the app's state: one set for the API and the page), made on first use."""
    with _made:
        limits = getattr(holder, "report_limits", None)
        if limits is None:
            limits = ReportLimits()
            holder.report_limits = limits  # type: ignore[attr-defined]
        return limits
