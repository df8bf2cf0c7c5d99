"""Partition leases: which worker applies which camera partition's frames, shared fairly and fenced.

Why leases and not a static map: workers on several machines come and go. Each calls `rebalance()` every few
seconds, well inside `lease_s`, in one short transaction:

1. its heartbeat row is upserted (`INSERT ... ON CONFLICT`), and the leases it still holds are locked
   (`FOR UPDATE`, in partition order) and renewed;
2. the live workers (heartbeat within `lease_s`) and what each holds give its share (`fair_share`): P // live
   each, the P % live extra ones to the workers already holding the most, so partitions move as little as
   possible and the shares always add up to P;
3. above its share it releases the surplus (owner cleared, the lease ends now); below it, it claims free or
   lapsed partitions with `FOR UPDATE SKIP LOCKED`, and every claim raises the partition's epoch.

A lapsed lease is never renewed, only claimed again under a new epoch, so a worker paused past its lease finds
its old epoch void. `owns(partition, epoch, session)` is the fence, run in the transaction that applies a frame:
it locks the lease row `FOR SHARE`, so no takeover (claims skip locked rows) can commit before that transaction
has. Check several partitions in one transaction in ascending order, the order renewals lock them in.

Times come from the database server (`clock_timestamp()`; `now()` would be the start of a caller's possibly long
transaction): one clock for every machine, so no host's clock skew shortens or stretches another's lease. Tests
pass a clock instead. On SQLite (no server clock, one writer at a time) the process clock is used.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, delete, func, or_, select, update
from sqlalchemy.orm import Session

from service.store.cluster_models import ClusterWorker, PartitionLease
from service.store.db import Database, utcnow

LEASE_S = 10.0  # default lease timeout: a worker silent this long loses its partitions
SWEEP_AFTER = 10  # a worker row silent for this many lease timeouts is deleted
NEVER = datetime(1970, 1, 1, tzinfo=UTC)  # expiry of a partition nobody has held yet

Clock = Callable[[], datetime]
Held = dict[int, int]  # partition -> epoch (the fencing token)

_NO_SYNC = {"synchronize_session": False}  # bulk statements: the session's identity map is not consulted


def fair_share(worker_id: str, live: Mapping[str, int], partitions: int) -> int:
    """How many partitions `worker_id` should hold, given how many each live worker (itself included) holds now.

    Each gets partitions // len(live); the remainder goes to those holding the most now (ties by id), so a worker
    that already has an extra one keeps it rather than passing it around."""
    base, extra = divmod(partitions, len(live))
    order = sorted(live, key=lambda worker: (-live[worker], worker))
    return base + (1 if order.index(worker_id) < extra else 0)


class PartitionLeases:
    """One worker's view of the partition leases. Worker ids must be unique per process (e.g. host:pid:random),
    and every worker must be given the same partition count."""

    def __init__(
        self,
        db: Database,
        worker_id: str,
        partitions: int,
        lease_s: float = LEASE_S,
        clock: Clock | None = None,
        host: str | None = None,
        pid: int | None = None,
    ) -> None:
        if partitions < 1:
            raise ValueError("partitions must be at least 1")
        if lease_s <= 0:
            raise ValueError("lease_s must be positive")
        if not 0 < len(worker_id) <= 128:
            raise ValueError("worker_id must have 1 to 128 characters")
        self.db = db
        self.worker_id = worker_id
        self.partitions = partitions
        self.lease = timedelta(seconds=lease_s)
        self.clock = clock
        self.host = (socket.gethostname() if host is None else host)[:255]
        self.pid = os.getpid() if pid is None else pid
        self.postgres = db.engine.dialect.name == "postgresql"
        self._seeded = False
        self.surplus: list[int] = []
        self.short = False  # the last rebalance left this worker below its fair share (others still hand over)
        # Partitions claimed from a clean hand-over (or never held): the consumer may start at once. The worker
        # takes each out as it starts the partition's consumer.
        self.handed_over: set[int] = set()  # held beyond the fair share, still to be released (see `rebalance`)

    # --- the worker's calls -------------------------------------------------------------------------------
    def heartbeat(self) -> Held:
        """Say this worker is alive and renew the leases it holds; claims and releases nothing."""
        with self.db.session() as session:
            now = self._now(session)
            self._beat(session, now)
            return self._renew(session, now)

    def rebalance(self, release_surplus: bool = True) -> Held:
        """Heartbeat, then move towards the fair share: release the surplus or claim what is missing.

        `release_surplus=False`: the surplus stays held (and is returned) and is named in `self.surplus`, for a
        worker that first stops consuming those partitions and then `release`s them, so that the next owner
        never pulls while this one still might."""
        self._seed()
        with self.db.session() as session:
            now = self._now(session)
            self._beat(session, now)
            held = self._renew(session, now)
            session.execute(
                delete(ClusterWorker).where(ClusterWorker.heartbeat_at < now - SWEEP_AFTER * self.lease),
                execution_options=_NO_SYNC,
            )
            target = fair_share(self.worker_id, self._live_counts(session, now), self.partitions)
            self.surplus = sorted(held)[target:]
            if self.surplus and release_surplus:
                self._release(session, now, self.surplus)
                held = {p: e for p, e in held.items() if p not in self.surplus}
                self.surplus = []
            elif len(held) < target:
                held.update(self._claim(session, now, target - len(held)))
            self.short = len(held) < target
            return held

    def owns(self, partition: int, epoch: int, session: Session | None = None) -> bool:
        """The fence: True while this worker holds `partition` under `epoch` and the lease has not run out.

        Pass the session that applies the frame: on PostgreSQL the lease row then stays locked (`FOR SHARE`)
        until that transaction ends, so nobody takes the partition over between this check and the commit."""
        if session is None:
            with self.db.session() as own:
                return self.owns(partition, epoch, own)
        query = select(PartitionLease.partition).where(
            PartitionLease.partition == partition,
            PartitionLease.owner_id == self.worker_id,
            PartitionLease.epoch == epoch,
            PartitionLease.expires_at > self._now(session),
        )
        if self.postgres:
            query = query.with_for_update(read=True)
        return session.scalar(query) is not None

    def release(self, partitions: Iterable[int], clean: bool = False) -> None:
        """Hand these partitions back now (a worker done with its surplus; `clean`: as in `_release`)."""
        with self.db.session() as session:
            self._release(session, self._now(session), sorted(partitions), clean)

    def release_all(self, clean: bool = False) -> None:
        """Clean shutdown: hand every partition back now, not after the timeout, and leave the worker list.

        Waits for this worker's frame transactions that hold a lease row (`owns`) to finish."""
        with self.db.session() as session:
            now = self._now(session)
            mine = select(PartitionLease.partition).where(PartitionLease.owner_id == self.worker_id)
            mine = mine.order_by(PartitionLease.partition)
            self._release(session, now, list(session.scalars(self._locked(mine))), clean)
            session.execute(delete(ClusterWorker).where(ClusterWorker.id == self.worker_id), execution_options=_NO_SYNC)

    # --- steps, each inside the caller's transaction ------------------------------------------------------
    def _now(self, session: Session) -> datetime:
        if self.clock is not None:
            return self.clock()
        if self.postgres:
            return session.scalar(select(func.clock_timestamp())).astimezone(UTC)
        return utcnow()

    def _insert(self) -> Callable[..., Any]:
        """The dialect's insert, which has ON CONFLICT."""
        if self.postgres:
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert

    def _locked(self, query: Select) -> Select:
        return query.with_for_update() if self.postgres else query

    def _seed(self) -> None:
        """One row per partition, once; concurrent workers insert the same rows, so conflicts are ignored."""
        if self._seeded:
            return
        rows = [
            {"partition": p, "owner_id": None, "epoch": 0, "expires_at": NEVER, "handed_over": True}
            for p in range(self.partitions)
        ]
        with self.db.session() as session:
            statement = self._insert()(PartitionLease).values(rows)
            session.execute(statement.on_conflict_do_nothing(index_elements=["partition"]))
        self._seeded = True

    def _beat(self, session: Session, now: datetime) -> None:
        statement = self._insert()(ClusterWorker).values(
            id=self.worker_id, host=self.host, pid=self.pid, started_at=now, heartbeat_at=now
        )
        update_row = {"heartbeat_at": now, "host": self.host, "pid": self.pid}
        session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=update_row))

    def _renew(self, session: Session, now: datetime) -> Held:
        """Lock (in partition order, so concurrent fences and renewals cannot deadlock) and extend held leases."""
        query = (
            select(PartitionLease.partition, PartitionLease.epoch)
            .where(
                PartitionLease.owner_id == self.worker_id,
                PartitionLease.expires_at > now,
                PartitionLease.partition < self.partitions,
            )
            .order_by(PartitionLease.partition)
        )
        held: Held = dict(session.execute(self._locked(query)).tuples().all())
        if held:
            session.execute(
                update(PartitionLease)
                .where(PartitionLease.partition.in_(held), PartitionLease.owner_id == self.worker_id)
                .values(expires_at=now + self.lease),
                execution_options=_NO_SYNC,
            )
        return held

    def _live_counts(self, session: Session, now: datetime) -> dict[str, int]:
        live = session.scalars(select(ClusterWorker.id).where(ClusterWorker.heartbeat_at > now - self.lease))
        counts = dict.fromkeys(live, 0) | {self.worker_id: 0}
        held = session.execute(
            select(PartitionLease.owner_id, func.count())
            .where(
                PartitionLease.owner_id.in_(counts),
                PartitionLease.expires_at > now,
                PartitionLease.partition < self.partitions,
            )
            .group_by(PartitionLease.owner_id)
        )
        return counts | dict(held.tuples().all())

    def _release(self, session: Session, now: datetime, partitions: Iterable[int], clean: bool = False) -> None:
        """End these leases now; the epoch stays, the next claim raises it. `clean`: nothing of these partitions
        is left unsettled by this worker, so the next owner need not wait for stranded frames."""
        session.execute(
            update(PartitionLease)
            .where(PartitionLease.partition.in_(list(partitions)), PartitionLease.owner_id == self.worker_id)
            .values(owner_id=None, expires_at=now, handed_over=clean),
            execution_options=_NO_SYNC,
        )

    def _claim(self, session: Session, now: datetime, wanted: int) -> Held:
        """Take up to `wanted` free or lapsed partitions, this worker's old ones first; rows another transaction
        holds (a claim in flight, a fence) are skipped, not waited for."""
        free = or_(PartitionLease.owner_id.is_(None), PartitionLease.expires_at <= now)
        query = (
            select(PartitionLease.partition)
            .where(free, PartitionLease.partition < self.partitions)
            .order_by(case((PartitionLease.owner_id == self.worker_id, 0), else_=1), PartitionLease.partition)
            .limit(wanted)
        )
        if self.postgres:
            query = query.with_for_update(skip_locked=True)
        clean = {
            p: owner is None and handed
            for p, owner, handed in session.execute(
                query.with_only_columns(PartitionLease.partition, PartitionLease.owner_id, PartitionLease.handed_over)
            ).tuples()
        }
        chosen = list(clean)
        if not chosen:
            return {}
        claimed = session.execute(
            update(PartitionLease)
            .where(PartitionLease.partition.in_(chosen), free)
            .values(owner_id=self.worker_id, epoch=PartitionLease.epoch + 1, expires_at=now + self.lease)
            .returning(PartitionLease.partition, PartitionLease.epoch),
            execution_options=_NO_SYNC,
        )
        got = dict(claimed.tuples().all())
        self.handed_over |= {p for p in got if clean.get(p)}
        session.execute(
            update(PartitionLease).where(PartitionLease.partition.in_(list(got))).values(handed_over=False),
            execution_options=_NO_SYNC,
        )
        return got
