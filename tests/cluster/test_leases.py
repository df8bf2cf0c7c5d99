"""Partition leases on the real PostgreSQL server: fair shares, takeover after the timeout, fencing epochs, clean
hand-over, and no double ownership under concurrent rebalancing. Time is an injected clock (no sleeping), except
in the one test that shows the server's own clock at work with a 1 s lease.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, select, text

from service.cluster.leases import PartitionLeases, fair_share
from service.store.cluster_models import ClusterWorker, PartitionLease
from service.store.db import Database
from service.store.migrate import upgrade

P = 16
LEASE_S = 10.0
AUDIT = """
CREATE TABLE lease_audit (partition int, old_owner text, new_owner text, old_epoch int, new_epoch int,
                          old_expires timestamptz, at timestamptz);
CREATE FUNCTION lease_audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
    IF NEW.owner_id IS DISTINCT FROM OLD.owner_id OR NEW.epoch <> OLD.epoch THEN
        INSERT INTO lease_audit VALUES (OLD.partition, OLD.owner_id, NEW.owner_id, OLD.epoch, NEW.epoch,
                                        OLD.expires_at, clock_timestamp());
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER lease_audit AFTER UPDATE ON partition_leases FOR EACH ROW EXECUTE FUNCTION lease_audit();
"""


class Clock:
    """A shared fake clock: every worker of a test reads it, the test moves it."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def migrated_postgres(postgres_server: str) -> Iterator[Database]:
    """One migrated schema for this module (migrating is the slow part); `pg` empties the cluster tables."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = Database(f"{postgres_server}?options=-csearch_path%3D{schema}")
    upgrade(database.engine)
    with database.session() as session:  # the test's own record of every change of owner, written by the server
        session.execute(text(AUDIT))
    yield database
    database.dispose()
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def pg(migrated_postgres: Database) -> Database:
    with migrated_postgres.session() as session:
        session.execute(text("TRUNCATE partition_leases, cluster_workers, lease_audit"))
    return migrated_postgres


@pytest.fixture
def clock() -> Clock:
    return Clock()


def worker(db: Database, name: str, clock: Clock | None, lease_s: float = LEASE_S) -> PartitionLeases:
    return PartitionLeases(db, name, P, lease_s=lease_s, clock=clock)


def table(db: Database) -> dict[int, tuple[str | None, int]]:
    with db.session() as session:
        rows = session.execute(select(PartitionLease.partition, PartitionLease.owner_id, PartitionLease.epoch))
        return {p: (owner, epoch) for p, owner, epoch in rows}


def assert_disjoint(*held: dict[int, int]) -> None:
    seen: set[int] = set()
    for one in held:
        assert not seen & one.keys(), "a partition is held by two workers at once"
        seen |= one.keys()


def assert_no_takeover_of_a_live_lease(db: Database) -> None:
    """From the server's audit of every change: a partition went to a new owner only once its lease was released
    or had run out (server clock), and each claim raised the epoch by one; a release kept it."""
    with db.session() as session:
        changes = session.execute(text("SELECT * FROM lease_audit ORDER BY at")).mappings().all()
    assert changes, "the audit saw no change"
    for change in changes:
        if change["new_owner"] is None:
            assert change["old_owner"] is not None and change["new_epoch"] == change["old_epoch"], change
        else:
            assert change["old_owner"] is None or change["old_expires"] <= change["at"], change
            assert change["new_epoch"] == change["old_epoch"] + 1, change


def test_fair_share_adds_up_and_keeps_extras_where_they_are() -> None:
    live = {"a": 8, "b": 8, "c": 0}
    assert [fair_share(w, live, 16) for w in "abc"] == [6, 5, 5]
    assert [fair_share(w, {"a": 5, "b": 6, "c": 5}, 16) for w in "abc"] == [5, 6, 5]  # b keeps its extra
    for n in range(1, 7):
        workers = {f"w{i}": i for i in range(n)}
        shares = [fair_share(w, workers, 16) for w in workers]
        assert sum(shares) == 16 and max(shares) - min(shares) <= 1


def test_a_worker_alone_owns_every_partition(pg: Database, clock: Clock) -> None:
    a = worker(pg, "a", clock)
    held = a.rebalance()
    assert held == dict.fromkeys(range(P), 1)
    assert all(a.owns(p, 1) for p in range(P))
    assert not a.owns(0, 2)  # a wrong epoch is not ownership
    assert a.rebalance() == held  # renewing moves nothing and keeps the epochs
    assert {owner for owner, _ in table(pg).values()} == {"a"}


def test_a_joining_worker_gets_its_fair_share_and_nothing_is_held_twice(pg: Database, clock: Clock) -> None:
    a, b = worker(pg, "a", clock), worker(pg, "b", clock)
    held_a = a.rebalance()
    held_b = b.rebalance()  # joins: nothing is free yet
    assert held_b == {} and len(held_a) == P
    assert b.short and not a.short  # b looks again soon; a holds its share and more
    for _ in range(2):
        held_a = a.rebalance()
        assert_disjoint(held_a, held_b)
        held_b = b.rebalance()
        assert_disjoint(held_a, held_b)
    assert len(held_a) == len(held_b) == P // 2
    assert not a.short and not b.short
    assert all(epoch == 2 for epoch in held_b.values())  # each moved partition changed owner once
    before = table(pg)
    a.rebalance()
    b.rebalance()
    assert table(pg) == before  # settled: further rounds move nothing

    epochs = {p: epoch for p, (_, epoch) in table(pg).items()}
    c = worker(pg, "c", clock)
    helds = {"a": held_a, "b": held_b, "c": c.rebalance()}
    for _ in range(4):
        for name, one in (("a", a), ("b", b), ("c", c)):
            helds[name] = one.rebalance()
            assert_disjoint(*helds.values())
    assert sorted(len(h) for h in helds.values()) == [5, 5, 6]
    moved = {p for p, (_, epoch) in table(pg).items() if epoch != epochs[p]}
    assert moved == helds["c"].keys()  # only what the newcomer needed changed hands, each once


def test_a_silent_worker_loses_its_partitions_after_the_timeout(pg: Database, clock: Clock) -> None:
    a, b = worker(pg, "a", clock), worker(pg, "b", clock)
    a.rebalance()
    b.rebalance()
    a.rebalance()
    held_b = b.rebalance()
    held_a = a.rebalance()
    assert len(held_a) == len(held_b) == P // 2
    assert not a.short and not b.short

    clock.advance(LEASE_S / 2)
    assert b.heartbeat() == held_b  # b heart-beats on; a falls silent (paused, crashed, cut off)
    clock.advance(LEASE_S / 2 + 0.5)  # a's leases and heartbeat are both older than the timeout now
    taken = b.rebalance()
    assert taken.keys() == set(range(P))
    assert all(taken[p] == held_a[p] + 1 for p in held_a)  # takeover raised the fencing epoch
    assert all(taken[p] == held_b[p] for p in held_b)  # b's own leases kept theirs
    assert not any(a.owns(p, e) for p, e in held_a.items())  # a, back from its pause, must stop applying frames

    assert a.heartbeat() == {}  # a lapsed lease is never renewed
    assert a.rebalance() == {}  # back in the live list; b hands over the surplus next round
    held_b = b.rebalance()
    held_a = a.rebalance()
    assert len(held_a) == len(held_b) == P // 2
    assert not a.short and not b.short
    assert all(epoch > taken[p] for p, epoch in held_a.items())


def test_a_lapsed_lease_is_claimed_again_under_a_new_epoch_not_renewed(pg: Database, clock: Clock) -> None:
    a = worker(pg, "a", clock)
    assert a.rebalance() == dict.fromkeys(range(P), 1)
    clock.advance(LEASE_S + 1)  # a was paused past its lease; nobody else was there to take over
    assert not a.owns(0, 1)
    assert a.heartbeat() == {}
    assert a.rebalance() == dict.fromkeys(range(P), 2)  # whatever a applied under epoch 1 is fenced off


def test_the_fence_holds_the_lease_until_the_frame_transaction_ends(pg: Database, clock: Clock) -> None:
    a, b = worker(pg, "a", clock), worker(pg, "b", clock)
    held_a = a.rebalance()
    with pg.session() as frame_tx:
        assert a.owns(3, held_a[3], frame_tx)  # the lease row is now locked FOR SHARE
        clock.advance(LEASE_S + 1)
        with ThreadPoolExecutor(1) as pool:  # another connection, as another machine would be
            taken = pool.submit(b.rebalance).result(timeout=10)
        assert 3 not in taken and len(taken) == P - 1  # b skipped the fenced row instead of taking it
    assert b.rebalance()[3] == held_a[3] + 1  # the frame transaction is over: now b takes it
    assert not a.owns(3, held_a[3])


def test_release_all_hands_over_at_once(pg: Database, clock: Clock) -> None:
    a, b = worker(pg, "a", clock), worker(pg, "b", clock)
    a.rebalance()
    b.rebalance()
    a.rebalance()
    held_a = a.rebalance()
    held_b = b.rebalance()
    assert len(held_a) == P // 2
    a.release_all()
    assert not any(a.owns(p, e) for p, e in held_a.items())
    taken = b.rebalance()  # no clock move: no waiting for the timeout
    assert taken.keys() == set(range(P))
    assert all(taken[p] == held_a[p] + 1 for p in held_a) and all(taken[p] == held_b[p] for p in held_b)
    with pg.session() as session:
        assert session.scalars(select(ClusterWorker.id)).all() == ["b"]


def test_the_server_clock_expires_a_silent_worker(pg: Database) -> None:
    a, b = worker(pg, "a", None, lease_s=1.0), worker(pg, "b", None, lease_s=1.0)
    a.rebalance()
    b.rebalance()
    held_a = a.rebalance()
    b.rebalance()
    assert len(held_a) == P // 2
    time.sleep(1.2)
    b.rebalance()
    assert b.rebalance().keys() == set(range(P))
    assert not any(a.owns(p, e) for p, e in held_a.items())
    assert_no_takeover_of_a_live_lease(pg)


def test_concurrent_rebalancing_never_gives_a_partition_or_an_epoch_to_two_workers(pg: Database) -> None:
    workers = [worker(pg, name, None, lease_s=30.0) for name in ("a", "b", "c")]
    rounds, threads_per_worker = 15, 2
    seen: dict[tuple[int, int], set[str]] = {}
    lock = threading.Lock()
    stop = threading.Event()
    fence_violations: list[str] = []

    def run(leases: PartitionLeases) -> None:
        for _ in range(rounds):
            held = leases.rebalance()
            with lock:
                for p, epoch in held.items():
                    seen.setdefault((p, epoch), set()).add(leases.worker_id)

    def fence_checker() -> None:
        """In one transaction, per partition ascending: at most one worker passes the fence for it."""
        while not stop.is_set():
            with pg.session() as session:
                for p in range(P):
                    epoch = session.scalar(select(PartitionLease.epoch).where(PartitionLease.partition == p))
                    passing = [w.worker_id for w in workers if epoch is not None and w.owns(p, epoch, session)]
                    if len(passing) > 1:
                        fence_violations.append(f"partition {p}: {passing}")

    checker = threading.Thread(target=fence_checker)
    checker.start()
    with ThreadPoolExecutor(len(workers) * threads_per_worker) as pool:
        for future in [pool.submit(run, w) for w in workers for _ in range(threads_per_worker)]:
            future.result(timeout=60)
    stop.set()
    checker.join(timeout=30)

    assert fence_violations == []
    assert {key: owners for key, owners in seen.items() if len(owners) > 1} == {}  # an epoch names one owner
    final = table(pg)
    assert sorted(final) == list(range(P))
    for p, (_, epoch) in final.items():  # every ownership change was seen by its claimer, none was hidden
        assert {e for q, e in seen if q == p} == set(range(1, epoch + 1))
    for _ in range(3):  # settle without concurrency
        helds = [w.rebalance() for w in workers]
    assert_disjoint(*helds)
    assert sorted(len(h) for h in helds) == [5, 5, 6]
    assert {owner for owner, _ in table(pg).values()} == {"a", "b", "c"}
    assert_no_takeover_of_a_live_lease(pg)


def test_the_migration_creates_the_cluster_tables_on_sqlite(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'clearway.db'}")
    upgrade(db.engine)
    schema = inspect(db.engine)
    assert {c["name"] for c in schema.get_columns("cluster_workers")} == {
        "id",
        "host",
        "pid",
        "started_at",
        "heartbeat_at",
    }
    assert {c["name"] for c in schema.get_columns("partition_leases")} == {
        "partition",
        "owner_id",
        "epoch",
        "expires_at",
        "handed_over",
    }
    assert schema.get_pk_constraint("partition_leases")["constrained_columns"] == ["partition"]
    held = PartitionLeases(db, "solo", 4, clock=Clock()).rebalance()  # the embedded default can run one worker
    assert held == {0: 1, 1: 1, 2: 1, 3: 1}
    db.dispose()


def test_a_claim_knows_whether_the_last_owner_handed_over_cleanly(pg: Database, clock: Clock) -> None:
    """Released clean (nothing left unsettled), or never held: the next owner starts at once. Lapsed (a dead
    owner) or released unclean: it waits for stranded frames."""
    first = PartitionLeases(pg, "first", 2, lease_s=10, clock=clock)
    assert first.rebalance() == {0: 1, 1: 1}
    assert first.handed_over == {0, 1}  # never held before
    first.release([0], clean=True)
    first.release([1], clean=False)
    first.release_all()  # leaves the worker list (holding nothing, it changes no lease)
    second = PartitionLeases(pg, "second", 2, lease_s=10, clock=clock)
    assert second.rebalance() == {0: 2, 1: 2}
    assert second.handed_over == {0}
    clock.advance(11)  # second goes silent: its leases lapse
    third = PartitionLeases(pg, "third", 2, lease_s=10, clock=clock)
    assert third.rebalance() == {0: 3, 1: 3}
    assert third.handed_over == set()
