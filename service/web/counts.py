"""Counts per status for the review queue, cached for a few seconds.

Counting is the one part of a queue page that grows with the number of hazards (a GROUP BY over the
reviewer's scope); paging through the queue should not redo it on every page. An entry is dropped as soon
as any hazard changes in this process (every change writes history: `lifecycle.on_history`, counted after
commit) and after `TTL_S` in any case, which bounds staleness from other processes.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from service.store import models as m
from service.store.lifecycle import on_history

TTL_S = 10.0
MAX_ENTRIES = 256
_lock = threading.Lock()
_entries: OrderedDict[object, tuple[int, float, dict[str, int]]] = OrderedDict()
_generation = 0


def cached_counts(key: object, compute: Callable[[], dict[str, int]]) -> dict[str, int]:
    with _lock:
        entry = _entries.get(key)
        generation = _generation
        if entry is not None and entry[0] == generation and time.monotonic() - entry[1] < TTL_S:
            return entry[2]
    value = compute()
    with _lock:
        _entries[key] = (generation, time.monotonic(), value)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value


def _bump(session: Session) -> None:
    global _generation
    session.info.pop("clearway_counts_stale", None)
    with _lock:
        _generation += 1


@on_history
def _hazard_changed(session: Session, hazard: m.HazardEvent, entry: m.HazardHistory) -> None:
    if not session.info.get("clearway_counts_stale"):
        session.info["clearway_counts_stale"] = True
        event.listen(session, "after_commit", _bump, once=True)
