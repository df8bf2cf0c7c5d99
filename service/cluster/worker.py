"""The partition worker: holds its fair share of camera partitions and applies their frames in order.

Every `lease_s / 3` it rebalances its leases (service/cluster/leases.py). Each partition it holds gets one
consumer task on the broker link's loop: fetch a small batch, apply each frame in a thread (the pipeline
is blocking code), settle it before the next one (ack, nak, term), so a partition's frames are applied one at
a time in stream order while different partitions run side by side. A partition taken over (a new epoch)
first reloads its cameras' unknown-object models as last saved; dwell state is read from the database with
every frame anyway. A partition lost (the fence failed, or the rebalance no longer lists it) stops after the
frame in hand; its unsettled frames go back to the stream, ahead of the rest, for the next owner.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from service.cluster.broker import BrokerUnavailable, Delivery
from service.cluster.frame_apply import FrameApplier, Outcome
from service.cluster.leases import Held, PartitionLeases
from service.cluster.link import BrokerLink

log = logging.getLogger("clearway.cluster")

# One frame per fetch: a pull for one frame is over once that frame arrives, so no pull of ours lingers on the
# server when the partition is handed over (a pull for 4 that got 1 stays open for the rest until it expires,
# and what it brings then is stranded). A round trip to the broker costs 0.2-0.4 ms against 50-90 ms a frame.
BATCH = 1
FETCH_WAIT_S = 1.0
RETRY_PAUSE_S = 1.0
SHORT_SPEEDUP = 5  # a worker below its fair share rebalances this many times as often


class PartitionWorker:
    def __init__(
        self,
        link: BrokerLink,
        leases: PartitionLeases,
        applier: FrameApplier,
        taken_over: Callable[[int], None],
        lease_s: float,
    ) -> None:
        self.link, self.leases, self.applier = link, leases, applier
        self.taken_over = taken_over  # called (in a thread) before a partition's first frame under a new epoch
        self.every_s = lease_s / 3
        self.held: Held = {}
        self._tasks: dict[int, asyncio.Task] = {}
        self._leaving: set[int] = set()  # surplus partitions whose consumer is stopping before release
        self._fenced: set[tuple[int, int]] = set()  # (partition, epoch) whose fence failed: not ours to drain
        self._clean: set[int] = set()  # drained with nothing left unsettled (a shutdown releases them clean)
        self._stop: asyncio.Event | None = None
        self._main = None

    def start(self) -> PartitionWorker:
        self._main = self.link.submit(self._run)
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Finish the frames in hand, hand every partition back at once (not after the lease timeout)."""
        if self._main is None:
            return
        self.link.loop.call_soon_threadsafe(lambda: self._stop.set() if self._stop else None)
        try:
            self._main.result(timeout=timeout)
        except Exception as exc:  # a worker that cannot finish cleanly still releases (leases lapse otherwise)
            log.warning("partition worker stopped uncleanly: %s", exc)
        self.leases.release(self._clean, clean=True)
        self.leases.release_all()

    async def _run(self) -> None:
        self._stop = asyncio.Event()
        while not self._stop.is_set():
            try:
                held = await asyncio.to_thread(self.leases.rebalance, False)
            except Exception as exc:  # the database away for a moment: keep what we have until the leases lapse
                log.warning("lease rebalance failed: %s", exc)
            else:
                await self._follow(held, set(self.leases.surplus))
            # Short of its share (a joining worker, others handing over): look again soon, not a third lease later.
            wait_s = self.every_s / SHORT_SPEEDUP if self.leases.short else self.every_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), wait_s)
        self.held = {}
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

    async def _follow(self, held: Held, surplus: set[int]) -> None:
        """Start a consumer for each partition newly held (or held under a new epoch); the others stop by
        themselves once `self.held` no longer names them with their epoch. The surplus is handed back once its
        consumer has stopped and given back what its pulls brought (`_consume`), never while it may pull."""
        before = self.held
        self.held = {p: e for p, e in held.items() if p not in surplus and p not in self._leaving}
        for partition in surplus - self._leaving:
            task = self._tasks.get(partition)
            if task is None or task.done():
                await asyncio.to_thread(self.leases.release, [partition])
            else:
                self._leaving.add(partition)
        for partition, epoch in self.held.items():
            task = self._tasks.get(partition)
            if before.get(partition) != epoch or task is None or task.done():
                self.link.broker.adopt(partition, partition in self.leases.handed_over)
                self.leases.handed_over.discard(partition)
                self._tasks[partition] = asyncio.get_running_loop().create_task(self._consume(partition, epoch))
                log.info("partition %d taken (epoch %d)", partition, epoch)
        for partition in set(before) - set(held):
            log.info("partition %d lost", partition)

    def _ours(self, partition: int, epoch: int) -> bool:
        return self.held.get(partition) == epoch and self._stop is not None and not self._stop.is_set()

    async def _consume(self, partition: int, epoch: int) -> None:
        await asyncio.to_thread(self.taken_over, partition)
        while self._ours(partition, epoch):
            try:
                deliveries = await self.link.broker.fetch(partition, BATCH, FETCH_WAIT_S)
            except BrokerUnavailable as exc:
                log.warning("partition %d: %s", partition, exc)
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            if not await self._apply_batch(partition, epoch, deliveries) and self._ours(partition, epoch):
                await asyncio.sleep(RETRY_PAUSE_S)
        clean = False
        if (partition, epoch) not in self._fenced:  # still our lease (handed over, or shutting down): give back
            try:
                clean = await self.link.broker.drain(partition) == 0
            except BrokerUnavailable as exc:  # what it held comes back after the ack wait
                log.warning("partition %d: %s", partition, exc)
        if clean:
            self._clean.add(partition)
        if partition in self._leaving:
            await asyncio.to_thread(self.leases.release, [partition], clean)
            self._leaving.discard(partition)
            log.info("partition %d handed over", partition)

    async def _apply_batch(self, partition: int, epoch: int, deliveries: list[Delivery]) -> bool:
        """Each frame in order; on the first that cannot be applied now, it and the rest go back (nak). False
        then, so the caller pauses before fetching again."""
        fetched = time.monotonic()
        for index, delivery in enumerate(deliveries):
            if time.monotonic() - fetched > self.link.settings.ack_wait_s / 3:  # a slow batch keeps its frames
                await _still_working(deliveries[index:])
                fetched = time.monotonic()
            outcome = Outcome.lost
            if self._ours(partition, epoch):
                outcome = await asyncio.to_thread(self.applier.apply, partition, epoch, delivery.message)
            try:
                if outcome in (Outcome.applied, Outcome.duplicate):
                    await delivery.ack()
                    await asyncio.to_thread(self.applier.settled, delivery.message)
                elif outcome == Outcome.broken:
                    await delivery.term()
                else:
                    if outcome == Outcome.lost and self.held.get(partition) == epoch:
                        del self.held[partition]  # the fence says so; the next rebalance agrees
                        self._fenced.add((partition, epoch))
                    await _give_back(deliveries[index:])
                    return False
            except BrokerUnavailable as exc:  # unsettled: redelivered after the ack wait, found by its id
                log.warning("partition %d: frame %s not settled: %s", partition, delivery.message.frame_id, exc)
                await _give_back(deliveries[index + 1 :])
                return False
        return True


async def _still_working(deliveries: list[Delivery]) -> None:
    """Restart the ack wait of frames fetched and not yet applied, so they are not redelivered behind our back."""
    with contextlib.suppress(BrokerUnavailable):
        for delivery in deliveries:
            await delivery.in_progress()


async def _give_back(deliveries: list[Delivery]) -> None:
    """Nak what is left of a batch, in order; one the broker does not confirm comes back after the ack wait."""
    for delivery in deliveries:
        if delivery.settled:
            continue
        with contextlib.suppress(BrokerUnavailable):
            await delivery.nak()
