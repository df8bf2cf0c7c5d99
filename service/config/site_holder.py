"""The running site configuration: one holder, read with `current()`, changed with `publish()`.

Why: the site changes at run time (zones saved in the editor). Whoever must follow it (the pipeline's
engines and scene models, the RTSP supervisor, the database mirror) subscribes once; everyone else reads
`current()`. Subscribers run in the order they subscribed, before `current()` moves to the new site, so no
reader sees a camera the pipeline is not yet ready for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from service.config.site import Site

SiteListener = Callable[[Site], None]


class SiteHolder:
    def __init__(self, site: Site) -> None:
        self._site = site
        self._listeners: list[SiteListener] = []
        self._lock = threading.Lock()  # one change at a time: each builds on the site the previous one left

    def current(self) -> Site:
        return self._site

    def subscribe(self, listener: SiteListener) -> None:
        """Call `listener(site)` on every later change (not now: the subscriber was built from `current()`)."""
        self._listeners.append(listener)

    def publish(self, site: Site) -> None:
        """Make `site` the running configuration, without a restart."""
        with self._lock:
            for listener in list(self._listeners):
                listener(site)
            self._site = site
