"""The frame transport: ingest publishes frame messages to JetStream, workers pull their partitions in order.

Ordering. The stream keeps messages in the order the broker acknowledged them, and a partition's durable
pull consumer (`part-<n>`, explicit ack) hands them out in that order. JetStream redelivers an unacked
message (ack wait expired, or a nak) ahead of any message never delivered, and several at once in stream
order, but it does *not* hold back new messages for it: while fewer than `max_ack_pending` are
outstanding, a fetch gets later frames first. So order holds when, as here:
  * one process fetches a partition at a time (the partition lease sees to that);
  * a batch is settled (ack, nak or term, each confirmed by the server) before the next fetch, and a worker
    that gives up on frame k naks k and every later frame of its batch, in order (`nak()` has no delay:
    a delayed nak would let later frames overtake it);
  * frames left unacked by someone else (a worker killed mid-batch, deliveries lost in a reconnect, a
    settle that failed) are waited out: before the first fetch of a partition, and after a reconnect or a
    failed settle, the broker asks the consumer how many are pending and, if any, fetches nothing until
    none is or one ack wait has passed, by when they are queued for redelivery ahead of everything else.
    The server counts nakked frames as pending too, so a partition its last owner handed over cleanly
    (`drain`, then the lease released as handed over) is `adopt`ed without that wait.
  * work longer than the ack wait calls `in_progress()`, or its frames are redelivered behind its back.
Delivery is at least once: a frame whose ack was lost comes again (`Delivery.delivered` > 1), so workers
treat the frame id as idempotency key. `max_deliver` bounds the attempts so a poison frame cannot stop a
partition for ever; a message that does not parse is terminated at once and counted in `malformed`.
Durability: file storage; an acknowledged publish has reached the server's store (R1 survives the server
process dying; R3 in production survives losing a machine). Publishing the same frame id again within the
duplicate window stores nothing new (PubAck.duplicate), which is what makes an ingest retry safe.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext, api

from service.cluster.messages import FrameMessage, MalformedFrameMessage
from service.cluster.partitions import SUBJECT_ROOT, frame_subject, parse_subject, partition_filter, partition_of
from service.config.broker_settings import BrokerSettings

log = logging.getLogger("clearway.cluster")

STREAM = "CLEARWAY_FRAMES"
DRAIN_GRACE_S = 0.1  # a handed-over partition's last look for frames its pulls may still bring
HOLD_POLL_S = 0.2  # how often a held partition asks whether the frames delivered elsewhere are settled
MSG_ID = "Nats-Msg-Id"


class BrokerUnavailable(RuntimeError):
    """The broker did not confirm in time, is unreachable, or has no stream for the subject (HTTP: 503)."""


@dataclass(frozen=True)
class PublishAck:
    """JetStream's confirmation: stored as `sequence` (or already there, when `duplicate`)."""

    stream: str
    sequence: int
    duplicate: bool


class Delivery:
    """One frame handed to a worker. Settle it exactly once: `ack()`, `nak()` or `term()`.

    Each is confirmed by the server before it returns (BrokerUnavailable if not), so the worker knows
    the frame's fate before it goes on. `in_progress()` restarts the ack wait for long work.
    """

    def __init__(self, msg: Msg, message: FrameMessage, partition: int, settle: _Settle) -> None:
        self.message = message
        self.partition = partition
        meta = msg.metadata
        self.sequence: int = meta.sequence.stream
        self.delivered: int = meta.num_delivered
        """How many times JetStream has handed this frame out, this time included (>1: a redelivery)."""
        self._msg = msg
        self._settle = settle
        self.settled = False

    def __repr__(self) -> str:
        return f"Delivery(partition={self.partition}, seq={self.sequence}, frame={self.message.frame_id})"

    async def ack(self) -> None:
        """Done with the frame: it is never delivered again."""
        await self._finish(b"+ACK")

    async def nak(self) -> None:
        """Not done: redeliver now, ahead of any frame not yet delivered (nak the rest of the batch too)."""
        await self._finish(b"-NAK")

    async def term(self) -> None:
        """Never deliver this frame again, without it having been handled (e.g. its file is gone)."""
        await self._finish(b"+TERM")  # no "+TERM <reason>": servers before 2.10 would ignore it

    async def in_progress(self) -> None:
        """Still working on it: the ack wait starts over."""
        if self.settled:
            raise RuntimeError(f"{self!r} is already settled")
        await self._settle(self._msg, b"+WPI", self.partition)

    async def _finish(self, verb: bytes) -> None:
        if self.settled:
            raise RuntimeError(f"{self!r} is already settled")
        self.settled = True  # even if the server does not confirm: ack wait decides then, never a 2nd verb
        await self._settle(self._msg, verb, self.partition)


_Settle = Callable[[Msg, bytes, int], Awaitable[None]]


class FrameBroker:
    """Publishes frame messages (ingest) and fetches a partition's frames (worker) over one connection."""

    def __init__(self, settings: BrokerSettings | None = None) -> None:
        self.settings = settings or BrokerSettings()
        self.malformed = 0
        """Messages refused as not frame messages (terminated, so they block nothing)."""
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._subs: dict[int, JetStreamContext.PullSubscription] = {}
        self._recheck: set[int] = set()
        self._hold_until: dict[int, float] = {}
        self._trusted: set[int] = set()
        self._closing = False
        self._batches: dict[int, list[Delivery]] = {}

    @property
    def partitions(self) -> int:
        return self.settings.partitions

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def connect(self, url: str | None = None) -> None:
        """Connect (reconnecting for ever afterwards); BrokerUnavailable if no server answers in time."""
        s = self.settings

        async def reconnected() -> None:
            log.info("NATS connection back (%s)", self._nc.connected_url if self._nc else "?")
            self._recheck.update(self._subs)  # deliveries in flight during the gap may be stranded

        async def disconnected() -> None:
            if self._closing:
                return  # our own close, not an outage
            log.warning("NATS connection lost; reconnecting every %.1fs", s.reconnect_wait_s)

        async def error(exc: Exception) -> None:
            log.debug("NATS: %s: %s", type(exc).__name__, exc)

        servers = [u.strip() for u in (url or s.url).split(",") if u.strip()]
        try:
            self._nc = await asyncio.wait_for(
                nats.connect(
                    servers,
                    name="clearway",
                    connect_timeout=s.connect_timeout_s,
                    reconnect_time_wait=s.reconnect_wait_s,
                    max_reconnect_attempts=-1,
                    reconnected_cb=reconnected,
                    disconnected_cb=disconnected,
                    error_cb=error,
                ),
                timeout=s.connect_timeout_s,
            )
        except TimeoutError as exc:
            raise BrokerUnavailable(
                f"no NATS server answered at {', '.join(servers)} within {s.connect_timeout_s}s"
            ) from exc
        except (OSError, nats.errors.Error) as exc:
            raise BrokerUnavailable(f"cannot connect to NATS at {', '.join(servers)}: {exc!r}") from exc
        self._js = self._nc.jetstream(timeout=s.request_timeout_s)

    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise BrokerUnavailable("not connected to NATS (call connect() first)")
        return self._js

    async def ensure_stream(self) -> None:
        """Create the frame stream, or bring an existing one to these settings."""
        s = self.settings
        config = api.StreamConfig(
            name=STREAM,
            subjects=[f"{SUBJECT_ROOT}.>"],
            retention=api.RetentionPolicy.LIMITS,
            storage=api.StorageType.FILE,
            discard=api.DiscardPolicy.OLD,
            num_replicas=s.replicas,
            duplicate_window=s.duplicate_window_s,
            max_age=s.max_age_s,
        )
        js = self._jetstream()
        try:
            try:
                await js.stream_info(STREAM)
            except nats.js.errors.NotFoundError:
                await js.add_stream(config)
                log.info("created stream %s (replicas %d)", STREAM, s.replicas)
            else:
                await js.update_stream(config)
        except (TimeoutError, nats.errors.Error) as exc:
            raise BrokerUnavailable(f"cannot set up stream {STREAM}: {exc!r}") from exc

    async def publish(self, message: FrameMessage) -> PublishAck:
        """Publish one frame message and wait for JetStream to have stored it (or to know it already)."""
        subject = frame_subject(partition_of(message.camera_id, self.partitions), message.camera_id)
        js = self._jetstream()
        try:
            ack = await js.publish(
                subject,
                message.to_bytes(),
                timeout=self.settings.request_timeout_s,
                stream=STREAM,
                headers={MSG_ID: message.frame_id},
            )
        except nats.js.errors.NoStreamResponseError as exc:
            raise BrokerUnavailable(f"no stream takes {subject} (ensure_stream not run?)") from exc
        except (TimeoutError, nats.errors.Error) as exc:
            raise BrokerUnavailable(f"frame {message.frame_id} not acknowledged: {exc!r}") from exc
        return PublishAck(stream=ack.stream, sequence=ack.seq, duplicate=bool(ack.duplicate))

    async def fetch(self, partition: int, batch: int = 1, timeout: float = 1.0) -> list[Delivery]:
        """Up to `batch` frames of the partition, in order; [] when none came within `timeout` seconds.

        The previous batch must be settled first. Malformed messages are terminated here and not returned.
        """
        if not 0 <= partition < self.partitions:
            raise ValueError(f"partition {partition} is not in 0..{self.partitions - 1}")
        if not 1 <= batch <= self.settings.max_ack_pending:
            raise ValueError(f"batch must be 1..{self.settings.max_ack_pending} (max_ack_pending), not {batch}")
        if any(not d.settled for d in self._batches.get(partition, ())):
            raise RuntimeError(f"partition {partition}: settle the previous batch before fetching again")
        sub = await self._subscription(partition)
        if partition in self._recheck:
            await self._check_stranded(partition)
        waited = await self._wait_out(partition, timeout)
        if waited is None:
            return []
        timeout -= waited
        try:
            msgs = await sub.fetch(batch, timeout=max(timeout, 0.01))
        except TimeoutError:
            return []
        except nats.errors.Error as exc:
            self._recheck.add(partition)
            raise BrokerUnavailable(f"partition {partition}: fetch failed: {exc!r}") from exc
        out: list[Delivery] = []
        for msg in msgs:
            try:
                message = FrameMessage.from_bytes(msg.data)
                if parse_subject(msg.subject) != (partition, message.camera_id):
                    raise MalformedFrameMessage(f"camera {message.camera_id!r} does not belong on {msg.subject}")
            except ValueError as exc:  # MalformedFrameMessage is one, so is a bad subject
                self.malformed += 1
                log.warning("partition %d: terminating malformed message on %s: %s", partition, msg.subject, exc)
                await self._settle(msg, b"+TERM", partition)
                continue
            out.append(Delivery(msg, message, partition, self._settle))
        self._batches[partition] = out
        return out

    async def _subscription(self, partition: int) -> JetStreamContext.PullSubscription:
        """The partition's durable pull consumer, created (or updated) on first use."""
        sub = self._subs.get(partition)
        if sub is not None:
            return sub
        s = self.settings
        durable = f"part-{partition}"
        config = api.ConsumerConfig(
            durable_name=durable,
            filter_subject=partition_filter(partition),
            deliver_policy=api.DeliverPolicy.ALL,
            ack_policy=api.AckPolicy.EXPLICIT,
            ack_wait=s.ack_wait_s,
            max_ack_pending=s.max_ack_pending,
            max_deliver=s.max_deliver,
        )
        js = self._jetstream()
        try:
            await js.add_consumer(STREAM, config)
            sub = await js.pull_subscribe_bind(durable=durable, stream=STREAM)
        except (TimeoutError, nats.errors.Error) as exc:
            raise BrokerUnavailable(f"partition {partition}: cannot open consumer {durable}: {exc!r}") from exc
        self._subs[partition] = sub
        if partition in self._trusted:
            self._trusted.discard(partition)
        else:
            self._recheck.add(partition)  # whoever had it before may have left frames unacked
        return sub

    async def _wait_out(self, partition: int, timeout: float) -> float | None:
        """While frames delivered elsewhere are unsettled: wait (at most `timeout`) until they are settled (a
        clean handover: the old owner naks or acks them within moments) or the ack wait has passed (a dead
        owner: they are queued for redelivery by then). The seconds waited, or None if still waiting."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        while (left := self._hold_until.get(partition, 0.0) - loop.time()) > 0:
            spent = loop.time() - started
            if spent >= timeout:
                return None
            await asyncio.sleep(min(left, HOLD_POLL_S, timeout - spent))
            if await self._pending(partition) == 0:
                self._hold_until.pop(partition, None)
        return loop.time() - started

    async def _pending(self, partition: int) -> int:
        return (await self._consumer_info(partition)).num_ack_pending

    async def _consumer_info(self, partition: int) -> api.ConsumerInfo:
        try:
            return await self._jetstream().consumer_info(STREAM, f"part-{partition}")
        except (TimeoutError, nats.errors.Error) as exc:
            raise BrokerUnavailable(f"partition {partition}: consumer info failed: {exc!r}") from exc

    async def _check_stranded(self, partition: int) -> None:
        """Frames pending on the consumer but held by no one here: hold fetches one ack wait (see above)."""
        info = await self._consumer_info(partition)
        self._recheck.discard(partition)
        if info.num_ack_pending:
            ack_wait = info.config.ack_wait or self.settings.ack_wait_s
            self._hold_until[partition] = asyncio.get_running_loop().time() + ack_wait * 1.1 + 0.1
            log.info(
                "partition %d: %d frames unacked elsewhere; waiting %.1fs for their redelivery",
                partition,
                info.num_ack_pending,
                ack_wait,
            )

    async def _settle(self, msg: Msg, verb: bytes, partition: int) -> None:
        """Send an ack verb as a request, so the server confirms it (a lost one strands the frame)."""
        if self._nc is None:
            raise BrokerUnavailable("not connected to NATS")
        try:
            await self._nc.request(msg.reply, verb, timeout=self.settings.request_timeout_s)
        except (TimeoutError, nats.errors.Error) as exc:
            self._recheck.add(partition)
            raise BrokerUnavailable(f"partition {partition}: {verb.split()[0].decode()} not confirmed") from exc

    def adopt(self, partition: int, handed_over: bool) -> None:
        """A partition this process starts consuming. `handed_over`: its last owner released it with nothing
        left unsettled (the leases say so), so there are no stranded frames to wait out: naked frames are
        still pending on the server, and waiting until nothing is pending would wait a whole ack wait."""
        if handed_over:
            self._trusted.add(partition)
        else:
            self._trusted.discard(partition)

    async def drain(self, partition: int) -> int:
        """Before handing a partition over, while its lease is still ours and no fetch of ours is running:
        let the last pull lapse, then drop the subscription, so the next owner is the only one pulling. A frame
        that reached us just as that pull lapsed (rare) is stranded: the next owner waits it out (one ack wait)
        rather than overtake it. Never pulls anything itself (what it pulled and gave back would come straight
        back to it, round after round, until JetStream gave up on the frame). How many frames were stranded."""
        sub = self._subs.pop(partition, None)
        self._batches.pop(partition, None)
        if sub is None:
            return 0
        await asyncio.sleep(DRAIN_GRACE_S)  # a pull's expiry is its client timeout less 0.1 ms: let it lapse
        stranded = sub.pending_msgs
        with contextlib.suppress(nats.errors.Error):
            await sub.unsubscribe()
        if stranded:
            log.info("partition %d: %d frames left for the next owner after the ack wait", partition, stranded)
        return stranded

    async def close(self) -> None:
        """Disconnect. Frames fetched and not settled are redelivered after the ack wait, to the next owner."""
        if self._nc is None:
            return
        self._closing = True
        nc, self._nc, self._js = self._nc, None, None
        self._subs.clear()
        self._batches.clear()
        await nc.close()
