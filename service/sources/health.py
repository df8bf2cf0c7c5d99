"""Per-camera health: the snapshot the API and metrics show, the mutable record readers update,
and the pure rule that turns "down for too long" into a `camera_offline` event.

A blind camera hides obstructions, so "offline" is as important to report as a hazard.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Literal

Status = Literal["starting", "online", "stalled", "offline"]
ViewProblem = Literal["frozen", "black", "covered"]
DOWN_STATUSES: frozenset[str] = frozenset({"offline", "stalled"})


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class CameraHealth:
    """One camera's state at one moment (immutable, safe to hand to other threads).

    `last_error` never contains credentials: readers pass every message through `urls.redact`.
    Counters survive reader restarts caused by config changes, so Prometheus sees no reset.
    """

    camera_id: str
    status: Status = "starting"
    status_since: datetime | None = None
    last_frame_at: datetime | None = None
    reconnects: int = 0
    connect_failures: int = 0
    decode_errors: int = 0
    frames_decoded: int = 0
    frames_sampled: int = 0
    frames_dropped: int = 0
    view_problem: ViewProblem | None = None
    last_error: str | None = None
    decode_mode: Literal["keyframes", "all"] | None = None
    keyframe_interval_s: float | None = None
    clock_offset_s: float | None = None
    """Camera clock minus our clock at the last frame (None until the stream gives its own time)."""

    def to_dict(self) -> dict:
        """JSON-friendly form for the API."""
        out = asdict(self)
        for key in ("status_since", "last_frame_at"):
            out[key] = out[key].isoformat() if out[key] is not None else None
        return out


HealthListener = Callable[[CameraHealth, CameraHealth | None], None]


class HealthState:
    """The mutable record one reader updates; notifies on status and view-problem transitions.

    Updates after `detach()` are ignored, so a reader that is still winding down after a config
    change (it may sit in a read for up to its timeout) cannot overwrite its successor's state.
    """

    def __init__(self, initial: CameraHealth, listener: HealthListener | None = None) -> None:
        self._lock = threading.Lock()
        self._health = replace(initial, status="starting", status_since=utcnow())
        self._listener = listener
        self._attached = True

    def snapshot(self) -> CameraHealth:
        with self._lock:
            return self._health

    def detach(self) -> CameraHealth:
        with self._lock:
            self._attached = False
            return self._health

    def announce(self) -> None:
        """Report the initial state (previous=None) so listeners learn about new cameras."""
        self._notify(self.snapshot(), None)

    def update(self, **changes: object) -> CameraHealth:
        """Apply field changes; `status` changes also stamp `status_since`. Returns the new snapshot."""
        with self._lock:
            if not self._attached:
                return self._health
            old = self._health
            if "status" in changes and changes["status"] != old.status:
                changes.setdefault("status_since", utcnow())
            new = replace(old, **changes)  # type: ignore[arg-type]
            self._health = new
        if new.status != old.status or new.view_problem != old.view_problem:
            self._notify(new, old)
        return new

    def add(self, **increments: int) -> None:
        """Increment counters (no notification: counters change on every frame)."""
        with self._lock:
            if not self._attached:
                return
            h = self._health
            self._health = replace(h, **{k: getattr(h, k) + v for k, v in increments.items()})

    def _notify(self, new: CameraHealth, old: CameraHealth | None) -> None:
        if self._listener is not None:
            self._listener(new, old)


@dataclass(frozen=True)
class OfflineEvent:
    """A `camera_offline` alarm being raised or cleared (routed to the property company)."""

    camera_id: str
    action: Literal["raised", "cleared"]
    down_since: datetime
    at: datetime
    status: Status
    last_error: str | None = None
    kind: str = "camera_offline"


@dataclass
class _Down:
    since: datetime
    raised: bool = False
    status: Status = "offline"
    last_error: str | None = None


class OfflineAlarm:
    """Decides when a `camera_offline` event is due and when it is cleared. Pure: no clock, no threads.

    A camera is down while its status is "offline" or "stalled" (both mean no picture); "starting"
    keeps a running down-period (a config change restarts the reader), only "online" ends it.
    The event is raised once, when the camera has been down for `offline_after_s`, and cleared
    once it is online again; a camera that recovers before that raises nothing.
    """

    def __init__(self, offline_after_s: float) -> None:
        if offline_after_s < 0:
            raise ValueError("offline_after_s must be >= 0")
        self.offline_after_s = offline_after_s
        self._down: dict[str, _Down] = {}

    def observe(self, health: CameraHealth, now: datetime) -> list[OfflineEvent]:
        """Feed a health snapshot (on every transition). Returns a "cleared" event if one is due."""
        down = self._down.get(health.camera_id)
        if health.status in DOWN_STATUSES:
            if down is None:
                since = health.status_since or now
                self._down[health.camera_id] = _Down(since, status=health.status, last_error=health.last_error)
            else:
                down.status, down.last_error = health.status, health.last_error
            return self.due(now, only=health.camera_id)
        if health.status == "online" and down is not None:
            del self._down[health.camera_id]
            if down.raised:
                return [OfflineEvent(health.camera_id, "cleared", down.since, now, health.status)]
        return []

    def due(self, now: datetime, only: str | None = None) -> list[OfflineEvent]:
        """Alarms whose time has come (each raised once). Call periodically: no transition marks it."""
        events = []
        for camera_id, down in self._down.items():
            if only is not None and camera_id != only:
                continue
            if not down.raised and (now - down.since).total_seconds() >= self.offline_after_s:
                down.raised = True
                events.append(OfflineEvent(camera_id, "raised", down.since, now, down.status, down.last_error))
        return events

    def forget(self, camera_id: str, now: datetime) -> list[OfflineEvent]:
        """The camera left the site config: clear its alarm if one was raised."""
        down = self._down.pop(camera_id, None)
        if down is not None and down.raised:
            return [OfflineEvent(camera_id, "cleared", down.since, now, down.status, "camera removed")]
        return []

    def raised(self) -> set[str]:
        return {camera_id for camera_id, down in self._down.items() if down.raised}
