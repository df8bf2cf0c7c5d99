"""The frame store's sweep: bytes no message can come for any more are deleted.

Why: a frame's bytes are written before its message is published and removed once a worker settled the
message. Some stay: a publish the broker never acknowledged (the client was answered 503 and sends again,
under the same frame id, so the bytes cannot be removed at once: the broker may have kept the message after
all), a message refused as broken, one JetStream gave up on after its last delivery. A message older than
the stream's `max_age` has left the stream, so bytes older than that (and a margin for clocks) are orphans.
Deleting a file is safe beside other workers sweeping the same shared folder.
"""

from __future__ import annotations

import logging
from pathlib import Path

from service.periodic import Periodic
from service.store.disk import remove_files_older_than

log = logging.getLogger("clearway.cluster")

MARGIN_S = 3600.0  # clocks of the machines sharing the folder may differ this much
EVERY_S = 3600.0


class FrameStoreSweep:
    def __init__(self, root: Path, max_age_s: float) -> None:
        self.root, self.older_than_s = root, max_age_s + MARGIN_S
        self._periodic = Periodic("frame-store-sweep", self.run_once)

    def run_once(self, now: float | None = None) -> tuple[int, int]:
        """(files, bytes) deleted: every file in the frame store older than the stream keeps messages."""
        files, freed = remove_files_older_than(self.root, self.older_than_s, now)
        if files:
            log.info("frame store: %d orphaned frame(s), %.1f MiB, removed", files, freed / 2**20)
        return files, freed

    def start(self, every_s: float = EVERY_S) -> FrameStoreSweep:
        self._periodic.start(every_s)
        return self

    def close(self) -> None:
        self._periodic.close(timeout_s=10)
