"""Cluster tables: the worker processes alive now, and one lease row per camera partition.

A partition row exists for every partition from the first worker's start; `owner_id` is empty when nobody
holds it, and a lease whose `expires_at` has passed is held by nobody whatever `owner_id` still says. `epoch`
is the fencing token: it goes up by one each time the partition is claimed, so a worker that lost its lease
(paused, partitioned off) finds its old epoch no longer matches (service/cluster/leases.py).

`owner_id` carries no foreign key on purpose: a crashed worker's row is swept later, and a key would make
every claim lock the worker row as well.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from service.store.db import Base, utcnow


class ClusterWorker(Base):
    """One worker process; live while `heartbeat_at` is within the lease timeout."""

    __tablename__ = "cluster_workers"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    host: Mapped[str] = mapped_column(String(255), default="")
    pid: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(index=True)


class PartitionLease(Base):
    """Who may apply the frames of one partition, until when, under which fencing epoch."""

    __tablename__ = "partition_leases"
    partition: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    owner_id: Mapped[str | None] = mapped_column(String(128), index=True, default=None)
    epoch: Mapped[int] = mapped_column(Integer, default=0)
    expires_at: Mapped[datetime]
    # True when the last owner released it with nothing of it left unsettled (or nobody held it yet): the next
    # owner starts at once; False after a lapse (a dead owner's frames are waited out, one ack wait).
    handed_over: Mapped[bool] = mapped_column(Boolean, default=True)
