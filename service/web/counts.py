"""Counts per status for the review queue, cached for a few seconds.

Counting is the one part of a queue page that grows with the number of hazards (a GROUP BY over the
reviewer's scope); paging through the queue should not redo it on every page. Every hazard change writes a
history row, so the newest history id is the cache's generation: an entry is used only while no hazard has
changed since it was counted (in this process or any other, as the id comes from the database), and never
longer than `TTL_S` (which bounds how stale counts of rows changed without history could be).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.store import models as m

TTL_S = 10.0
MAX_ENTRIES = 256
_lock = threading.Lock()
_entries: OrderedDict[object, tuple[int, float, dict[str, int]]] = OrderedDict()


def cached_counts(session: Session, key: object, compute: Callable[[], dict[str, int]]) -> dict[str, int]:
    """`compute()` once per hazard change (or TTL), per key."""
    generation = session.scalar(select(func.max(m.HazardHistory.id))) or 0
    with _lock:
        entry = _entries.get(key)
        if entry is not None and entry[0] == generation and time.monotonic() - entry[1] < TTL_S:
            return entry[2]
    value = compute()
    with _lock:
        _entries[key] = (generation, time.monotonic(), value)
        _entries.move_to_end(key)
        while len(_entries) > MAX_ENTRIES:
            _entries.popitem(last=False)
    return value
