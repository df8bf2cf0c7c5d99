"""The latest view of every camera: one JPEG per camera under <data_dir>/latest/, whatever its frames showed.

Why: a frame's image is kept as evidence only when an object stood in a zone, so a new camera (no zones yet)
or a quiet one had no picture at all, and its zone editor drew on a blank canvas. This store keeps the most
recent frame of each camera, at most one write every `every_s` seconds per camera, so the editor and the
"learn the empty scene" card show what the camera sees now.

Retention is replacement: one file per camera, `<camera>.jpg`, replaced atomically (temp file + os.replace),
and the files of cameras no longer in the site are removed (`retain`). The file's modification time *is* the
frame's capture time (set before the rename), so picture and time can never get out of step. It is a view, not
evidence: no hash is kept, a torn file after a power cut reads as "no view yet" until the next write.
"""

from __future__ import annotations

import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image, UnidentifiedImageError

log = logging.getLogger("clearway.latest")

CAMERA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # the site file's Identifier: no slash, no "../"
TEMP_PREFIX = ".tmp-"
DEFAULT_EVERY_S = 120.0


def is_jpeg(data: bytes) -> bool:
    return data[:3] == b"\xff\xd8\xff"


@dataclass(frozen=True)
class LatestFrame:
    """What the pages need to show a camera's latest view: when it was captured and its size in pixels."""

    camera_id: str
    captured_at: datetime
    width: int
    height: int
    size_bytes: int


class LatestFrames:
    """One recent JPEG per camera. Thread-safe: frames of several cameras are processed at once."""

    def __init__(
        self, root: Path, every_s: float = DEFAULT_EVERY_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        self.every_s = every_s
        self.clock = clock
        self._lock = threading.Lock()
        self._written_at: dict[str, float] = {}  # monotonic time of each camera's last write (the throttle)
        self._known: dict[str, LatestFrame | None] = {}  # what is on disk, read once per camera
        for leftover in self.root.glob(f"{TEMP_PREFIX}*"):  # a crash mid-write (one service writes here)
            leftover.unlink(missing_ok=True)

    def path_of(self, camera_id: str) -> Path:
        """The camera's file; ValueError for an id that is not a site identifier (never trusted as a path)."""
        if not isinstance(camera_id, str) or not CAMERA_ID.fullmatch(camera_id):
            raise ValueError(f"not a camera id: {camera_id!r}")
        path = (self.root / f"{camera_id}.jpg").resolve()
        if path.parent != self.root:
            raise ValueError(f"camera id escapes the latest-frame directory: {camera_id!r}")
        return path

    # --- writing -------------------------------------------------------------------------------------
    def offer(self, camera_id: str, captured_at: datetime, width: int, height: int, jpeg: Callable[[], bytes]) -> bool:
        """A processed frame of the camera: kept if the camera's last write is `every_s` old (or there is none)
        and the frame is newer than the kept one. `jpeg()` is called only then (the pipeline passes the
        original bytes when they are a JPEG, else encodes). Never raises for a disk error: it is a view."""
        if not CAMERA_ID.fullmatch(camera_id or ""):
            return False
        with self._lock:
            now = self.clock()
            last = self._written_at.get(camera_id)
            if last is not None and now - last < self.every_s:
                return False
            current = self._current(camera_id)
            if current is not None and captured_at <= current.captured_at:
                return False  # a late frame must not replace a newer view
            self._written_at[camera_id] = now  # reserved: another thread with this camera's frame skips
        try:
            data = jpeg()
            self._write(self.path_of(camera_id), data, captured_at)
        except (OSError, ValueError) as exc:
            log.warning("latest view of %s not written: %s", camera_id, exc)
            with self._lock:
                self._written_at.pop(camera_id, None)  # try again with the next frame
            return False
        with self._lock:
            self._known[camera_id] = LatestFrame(camera_id, captured_at, width, height, len(data))
        return True

    @staticmethod
    def _write(path: Path, data: bytes, captured_at: datetime) -> None:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)  # no fsync: a view, replaced within minutes; a torn file reads as none
            stamp = int(captured_at.timestamp() * 1_000_000_000)
            os.utime(tmp, ns=(stamp, stamp))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # --- reading -------------------------------------------------------------------------------------
    def get(self, camera_id: str) -> LatestFrame | None:
        """The camera's latest view, or None when no frame came yet (or the id is not a camera id)."""
        if not CAMERA_ID.fullmatch(camera_id or ""):
            return None
        with self._lock:
            return self._current(camera_id)

    def read(self, camera_id: str) -> tuple[datetime, bytes] | None:
        """The view's bytes and capture time, from one open file (a replacement meanwhile cannot mix them)."""
        if self.get(camera_id) is None:
            return None
        try:
            with self.path_of(camera_id).open("rb") as handle:
                stamp = os.fstat(handle.fileno()).st_mtime_ns
                data = handle.read()
        except OSError:
            return None
        return datetime.fromtimestamp(stamp / 1_000_000_000, UTC), data

    def _current(self, camera_id: str) -> LatestFrame | None:
        """Under the lock: the cached view, or the file on disk read once (header only, no decode)."""
        if camera_id not in self._known:
            self._known[camera_id] = self._load(camera_id)
        return self._known[camera_id]

    def _load(self, camera_id: str) -> LatestFrame | None:
        path = self.path_of(camera_id)
        try:
            stat = path.stat()
            with Image.open(path) as image:
                width, height = image.size
                if image.format != "JPEG":
                    return None
        except (OSError, UnidentifiedImageError, ValueError):
            return None  # none yet, or a torn file from a crash: the next frame replaces it
        captured_at = datetime.fromtimestamp(stat.st_mtime_ns / 1_000_000_000, UTC)
        return LatestFrame(camera_id, captured_at, width, height, stat.st_size)

    # --- retention -----------------------------------------------------------------------------------
    def retain(self, camera_ids: Iterable[str]) -> list[str]:
        """Remove the views of cameras no longer in the site. Returns the camera ids whose view was removed."""
        keep = set(camera_ids)
        removed: list[str] = []
        with self._lock:
            for path in self.root.iterdir():
                if path.suffix == ".jpg" and path.is_file() and path.stem not in keep:
                    path.unlink(missing_ok=True)
                    self._known.pop(path.stem, None)
                    self._written_at.pop(path.stem, None)
                    removed.append(path.stem)
        if removed:
            log.info("latest views removed for cameras no longer in the site: %s", ", ".join(sorted(removed)))
        return sorted(removed)
