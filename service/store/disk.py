"""The disk: a guard that refuses new frames while it is nearly full, and the clean-up's file operations.

Why refuse early: a frame that is accepted writes an image file, a frame row, detections and perhaps evidence;
running out of space in the middle leaves a half-written frame and a database that may not even commit its
hazard changes. Below `min_free_bytes` the frame routes answer 507 (Insufficient Storage), the device intake
refuses, and /healthz says `disk_low`, while everything that only reads, or writes a few rows (people's
actions, deliveries), goes on. The clean-up (service/store/retention.py) is what brings the space back.

The free-space function is injected (`shutil.disk_usage` by default) so tests need no full disk.

Files: `delete_stored` removes one file of the evidence store (never outside it); `remove_leftover_temp_files`
removes the `.tmp-*` files an interrupted `EvidenceStore.save` leaves (it writes one, then renames it).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Gauge

log = logging.getLogger("clearway.disk")
TEMP_PREFIX = ".tmp-"  # EvidenceStore.save writes here first, then renames

Usage = Callable[[Path], Any]  # shutil.disk_usage: anything with .total and .free (bytes)
DEFAULT_MIN_FREE_BYTES = 1024**3  # 1 GiB: several hours of pictures at the observed rate, and room for SQLite


@dataclass(frozen=True)
class DiskState:
    """Free and total bytes of the file system holding a path, and whether new frames may be written."""

    free_bytes: int
    total_bytes: int
    ok: bool
    min_free_bytes: int = 0
    path: str = ""
    error: str | None = None  # the file system could not be asked (then not ok: writes would likely fail too)

    def message(self) -> str:
        """What the 507 answer and the health page say."""
        if self.error is not None:
            return f"free space of {self.path} unknown ({self.error}); new frames refused"
        mib = 1024**2
        return (
            f"{self.free_bytes // mib} MiB free of {self.total_bytes // mib} MiB on {self.path}; "
            f"new frames are refused below {self.min_free_bytes // mib} MiB"
        )

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "free_bytes": self.free_bytes,
            "total_bytes": self.total_bytes,
            "min_free_bytes": self.min_free_bytes,
            "path": self.path,
            **({"error": self.error} if self.error is not None else {}),
        }


class DiskFullError(RuntimeError):
    """New frames are refused: the disk is below its free-space threshold (HTTP 507, FTP 452)."""

    def __init__(self, state: DiskState) -> None:
        super().__init__(state.message())
        self.state = state


def _existing(path: Path) -> Path:
    """The path itself or its nearest existing parent: the data directory may not be created yet."""
    path = Path(path).absolute()
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


def disk_state(path: Path | str, min_free_bytes: int, usage: Usage = shutil.disk_usage) -> DiskState:
    """Ask the file system holding `path`; `ok` is free >= min_free_bytes. Never raises: a failure is not ok."""
    where = _existing(Path(path))
    try:
        found = usage(where)
    except OSError as exc:
        return DiskState(0, 0, False, min_free_bytes, str(where), f"{type(exc).__name__}: {exc}")
    free, total = int(found.free), int(found.total)
    return DiskState(free, total, free >= min_free_bytes, min_free_bytes, str(where))


def worst_disk_state(paths: Iterable[Path | str], min_free_bytes: int, usage: Usage = shutil.disk_usage) -> DiskState:
    """The least free of several paths (the database file and the evidence may be on different mounts)."""
    states = [disk_state(path, min_free_bytes, usage) for path in paths]
    if not states:
        raise ValueError("no path to check")
    return min(states, key=lambda state: (state.ok, state.free_bytes))


class DiskGuard:
    """The guard the intake paths share: `check()` raises DiskFullError when new frames must be refused."""

    def __init__(self, paths: Iterable[Path | str], min_free_bytes: int, usage: Usage = shutil.disk_usage) -> None:
        self.paths = [Path(p) for p in paths]
        self.min_free_bytes = min_free_bytes
        self.usage = usage

    def state(self) -> DiskState:
        return worst_disk_state(self.paths, self.min_free_bytes, self.usage)

    def check(self) -> DiskState:
        """The state when frames may be written; DiskFullError otherwise (a statvfs call: cheap per frame)."""
        state = self.state()
        if not state.ok:
            raise DiskFullError(state)
        return state

    def register(self, registry: CollectorRegistry) -> None:
        """Gauges read at each scrape: free bytes, and 1 while frames are accepted (0 while refused)."""
        free = Gauge("clearway_disk_free_bytes", "Free bytes where frames and evidence are written", registry=registry)
        free.set_function(lambda: float(self.state().free_bytes))
        accepting = Gauge(
            "clearway_disk_accepting_frames",
            "1 while free space allows new frames, 0 while refused (507)",
            registry=registry,
        )
        accepting.set_function(lambda: 1.0 if self.state().ok else 0.0)


# --- stored files -------------------------------------------------------------------------------------------
def delete_stored(root: Path, relative: str) -> int | None:
    """Delete one stored file; its size, or None when it was already gone (or is outside the store)."""
    path = (root / relative).resolve()
    if not path.is_relative_to(root):
        log.warning("retention refused to delete %r: outside the evidence directory", relative)
        return None
    try:
        size = path.stat().st_size
        path.unlink()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("retention could not delete %s: %s", relative, exc)
        return None
    return size


def remove_leftover_temp_files(root: Path, older_than_s: float = 3600.0, now: float | None = None) -> tuple[int, int]:
    """Delete `.tmp-*` files a crash left in the evidence store; (files, bytes). Younger ones may be a save in
    progress (this or another instance) and stay."""
    return remove_files_older_than(root, older_than_s, now, lambda name: name.startswith(TEMP_PREFIX))


def remove_files_older_than(
    root: Path, older_than_s: float, now: float | None = None, which: Callable[[str], bool] = lambda name: True
) -> tuple[int, int]:
    """Delete the files under `root` whose name `which` accepts, last modified over `older_than_s` ago;
    (files, bytes). Safe beside other instances doing the same: a file gone already is skipped."""
    limit = (time.time() if now is None else now) - older_than_s
    count = freed = 0
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if not which(name):
                continue
            path = Path(folder) / name
            try:
                stat = path.stat()
                if stat.st_mtime >= limit:
                    continue
                path.unlink()
            except OSError:  # gone already (renamed by its writer, or another instance's sweep)
                continue
            count, freed = count + 1, freed + stat.st_size
    return count, freed
