"""Delivery as the runtime sees it: the dispatcher, escalation and cooldown digest threads over the outbox,
started and stopped."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from service.config.site import Site
from service.delivery.channels import Senders
from service.delivery.digest import DigestJob
from service.delivery.dispatcher import Dispatcher
from service.delivery.escalation import EscalationScheduler
from service.delivery.outbox import Outbox
from service.delivery.settings import DeliverySettings
from service.periodic import Periodic
from service.store.db import Database
from service.store.hazard_writer import HazardWriter

log = logging.getLogger("clearway.delivery")


class DeliveryService:
    def __init__(
        self,
        db: Database,
        site: Callable[[], Site],
        settings: DeliverySettings,
        writer: HazardWriter,
        outbox: Outbox,
        registry: CollectorRegistry | None = None,
        senders: Senders | None = None,
    ) -> None:
        """`outbox` is the sink of `writer`: what the writer records becomes the deliveries sent here."""
        self.db = db
        self.settings = settings
        self.outbox = outbox
        self.outbox.wake_on_commit(db)
        self.dispatcher = Dispatcher(db, site, settings, writer, senders=senders, registry=registry)
        self.escalation = EscalationScheduler(db, site, writer)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.digests = DigestJob(db, site, outbox)  # cooldown windows ended -> one digest each
        self._digests = Periodic("clearway-digest", self.digests.run_once, self._stop)

    def start(self) -> None:
        """Start the background threads (unless settings say tests drive `run_once` themselves)."""
        if not self.settings.background or self._threads:
            return
        self._threads = [
            threading.Thread(
                target=self.dispatcher.serve,
                args=(self._stop, self.outbox.wake),
                name="clearway-dispatcher",
                daemon=True,
            ),
            threading.Thread(
                target=self.escalation.serve,
                args=(self._stop, self.settings.escalation_interval_s),
                name="clearway-escalation",
                daemon=True,
            ),
        ]
        for thread in self._threads:
            thread.start()
        self._digests.start(self.settings.escalation_interval_s)
        log.info("delivery dispatcher, escalation scheduler and digest job started")

    def close(self) -> None:
        self._stop.set()
        self.outbox.wake.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []
        self._digests.close(timeout_s=30)
        self.dispatcher.close()
