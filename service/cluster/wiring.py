"""Roles `ingest` and `worker` wired into a runtime: the broker link, where frames go, the partition worker.

`all` (the default) has none of this: frames go straight to the pipeline, in process, with no broker. In
both other roles every frame intake (HTTP, device pushes, FTP, pulled streams) publishes instead
(`ClusterIngest.submit`), and a worker also applies the partitions it leases.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass

from service.cluster.frame_apply import FrameApplier
from service.cluster.frame_store_sweep import FrameStoreSweep
from service.cluster.ingest import ClusterIngest
from service.cluster.leases import PartitionLeases
from service.cluster.link import BrokerLink
from service.cluster.partitions import partition_of
from service.cluster.worker import PartitionWorker
from service.config.settings import Settings
from service.config.site_holder import SiteHolder
from service.frame_flow import FrameQueued
from service.metrics import Metrics
from service.pipeline import Pipeline
from service.scene.scenes import StaticScenes
from service.store.db import Database
from service.store.evidence import EvidenceStore
from service.vision.types import Frame

log = logging.getLogger("clearway.cluster")


class RoleError(ValueError):
    """A role that cannot run with these settings (said at start-up, with what to change)."""


@dataclass
class Cluster:
    link: BrokerLink
    ingest: ClusterIngest
    worker: PartitionWorker | None
    sweep: FrameStoreSweep | None = None  # workers sweep the shared frame store of orphaned bytes

    @property
    def intake(self) -> Callable[[Frame], FrameQueued]:
        return self.ingest.submit

    def close(self) -> None:
        """The worker first (it finishes its frames and hands its partitions back), then the connection."""
        if self.worker is not None:
            self.worker.close()
        if self.sweep is not None:
            self.sweep.close()
        self.link.close()


def start_cluster(
    settings: Settings, db: Database, sites: SiteHolder, pipeline: Pipeline, scenes: StaticScenes, metrics: Metrics
) -> Cluster:
    """Connect to NATS (the stream made if missing); for a worker, start leasing and consuming partitions."""
    if db.engine.dialect.name != "postgresql":
        raise RoleError(
            f"--role {settings.role} needs PostgreSQL shared by every process (DATABASE_URL=postgresql+psycopg://...); "
            "SQLite is for --role all"
        )
    link = BrokerLink(settings.nats).start()
    ingest = ClusterIngest(link, EvidenceStore(settings.incoming_dir))
    worker = sweep = None
    if settings.role == "worker":
        worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        leases = PartitionLeases(db, worker_id, settings.nats.partitions, settings.lease_s)
        applier = FrameApplier(
            db, sites, pipeline, ingest.store, leases, metrics, settings.max_pixels, settings.decode_fit
        )

        def taken_over(partition: int) -> None:
            count = settings.nats.partitions
            scenes.reload({c.id for c in sites.current().cameras if partition_of(c.id, count) == partition})

        worker = PartitionWorker(link, leases, applier, taken_over, settings.lease_s).start()
        sweep = FrameStoreSweep(ingest.store.root, settings.nats.max_age_s).start()
        log.info("worker %s: %d partitions, lease %.0f s", worker_id, settings.nats.partitions, settings.lease_s)
    return Cluster(link, ingest, worker, sweep)
