"""Devices that send us events but are no camera of the site file: kept so the installer can see and add them.

Why: a camera pointed at the alarm server or the FTP server before it is configured would otherwise be a
silent refusal. Each refusal is logged and counted; this register keeps the latest of each device and channel
(bounded), for the cameras page. In memory: it describes what this process has heard since it started.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime

LIMIT = 200


@dataclass(frozen=True)
class UnknownDevice:
    source: str  # hikvision | ftp | dahua
    identity: str  # what the device called itself: MAC, serial, address, or an FTP username
    channel: int | None
    address: str  # where it sent from
    event: str  # the last event type (or file name)
    first_seen: datetime
    last_seen: datetime
    count: int = 1


class UnknownDevices:
    def __init__(self, limit: int = LIMIT) -> None:
        self._seen: OrderedDict[tuple, UnknownDevice] = OrderedDict()
        self._lock = threading.Lock()
        self._limit = limit

    def heard(self, source: str, identity: str, channel: int | None, address: str, event: str, at: datetime) -> None:
        key = (source, identity, channel)
        with self._lock:
            known = self._seen.pop(key, None)
            if known is None:
                known = UnknownDevice(source, identity, channel, address, event, at, at)
            else:
                known = replace(known, address=address, event=event, last_seen=at, count=known.count + 1)
            self._seen[key] = known
            while len(self._seen) > self._limit:
                self._seen.popitem(last=False)

    def listed(self) -> list[UnknownDevice]:
        """Newest first."""
        with self._lock:
            return list(reversed(self._seen.values()))
