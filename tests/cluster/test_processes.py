"""A county on many machines, on loopback: a real nats-server, one PostgreSQL database, two ingest processes
and three workers (`clearway serve --role ...`), the parked-bus scene of the benchmark on four cameras.

One scenario in steps (each step's state is the next one's start, as on a real deployment):
1. frames pushed through both ingests, each camera in capture order: every frame applied once, each camera's
   frames in capture order, one hazard per camera once the dwell has passed;
2. a worker killed (-9) mid-stream: every acknowledged frame still applied, none twice, no second hazard;
3. a fourth worker joins: it holds its share of partitions within the lease timeout;
4. the broker killed (-9) and started again: pushes while it is down are refused (503, the client retries),
   nothing acknowledged is lost.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import func, select

from bench import scenes
from service.store import models as m
from service.store.cluster_models import PartitionLease
from service.store.db import Database
from tests.cluster.conftest import NatsServer
from tests.cluster.processes import Node, clearway, node_env
from tests.conftest import postgres_schema
from tests.support import wait_until

CAMERAS = scenes.camera_ids(4)
LEASE_S = 3.0
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
FRAMES = scenes.frames("photo", 40, seed=7)  # one sequence, shared: frames differ per camera by capture time


@pytest.fixture
def schema_url(postgres_server: str) -> Iterator[str]:
    with postgres_schema(postgres_server) as url:
        yield url


class County:
    """The processes and what the test pushed (camera -> frame steps acknowledged)."""

    def __init__(self, tmp: Path, database_url: str, nats: NatsServer, default_model_path: Path) -> None:
        site = tmp / "site.yaml"
        site.write_text(yaml.safe_dump(scenes.site(len(CAMERAS))))
        self.env = node_env(
            {
                "DATABASE_URL": database_url,
                "CLEARWAY_DATA_DIR": str(tmp / "data"),
                "CLEARWAY_SITE_FILE": str(site),
                "CLEARWAY_MODELS_DIR": str(default_model_path.parent),
                "CLEARWAY_IMGSZ": "320",
                "CLEARWAY_INFERENCE_WORKERS": "1",
                "CLEARWAY_INFERENCE_BATCH": "4",  # frames of its partitions that wait share a model call
                "CLEARWAY_DELIVERY_REPORTS": "0",
                "CLEARWAY_NATS_URL": nats.url,
                "CLEARWAY_NATS_PARTITIONS": "8",
                "CLEARWAY_NATS_ACK_WAIT_S": "2",
                "CLEARWAY_NATS_RECONNECT_WAIT_S": "0.2",
                "CLEARWAY_LEASE_S": str(LEASE_S),
            }
        )
        self.tmp, self.db = tmp, Database(database_url)
        self.key = self._gateway_key()
        self.ingests = [self.node("ingest") for _ in range(2)]
        self.workers = [self.node("worker") for _ in range(3)]
        for node in [*self.ingests, *self.workers]:
            node.wait_ready()
        self.acknowledged: dict[str, list[int]] = defaultdict(list)

    def _gateway_key(self) -> str:
        import subprocess

        command = [*clearway(), "keys", "create", "--name", "gw", "--role", "gateway"]
        command += [arg for camera in CAMERAS for arg in ("--camera", camera)]
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=120, check=True)
        return done.stdout.strip().splitlines()[-1]

    def node(self, role: str) -> Node:
        return Node(role, self.env, self.tmp / f"{role}-{uuid.uuid4().hex[:6]}.log").start()

    def push(self, camera: str, step: int, via: Node) -> httpx.Response:
        return httpx.post(
            f"{via.base}/api/v1/cameras/{camera}/frames",
            content=FRAMES[step],
            headers={"Content-Type": "image/jpeg", "Authorization": f"Bearer {self.key}"},
            params={"captured_at": (T0 + timedelta(seconds=5 * step)).isoformat()},
            timeout=30,
        )

    def push_steps(self, steps: range, during: threading.Event | None = None) -> None:
        """Every camera its steps in order, cameras side by side, frames alternating between the ingests."""

        def camera_run(camera: str) -> None:
            for step in steps:
                answer = self.push(camera, step, self.ingests[step % 2])
                assert answer.status_code == 202, answer.text
                assert answer.json()["queued"] is True
                self.acknowledged[camera].append(step)
                if during is not None and step == steps.start + len(steps) // 3:
                    during.set()

        threads = [threading.Thread(target=camera_run, args=(c,)) for c in CAMERAS]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)

    def applied(self) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(m.FrameRecord)) or 0

    def wait_applied(self, timeout_s: float = 120.0) -> None:
        expected = sum(len(v) for v in self.acknowledged.values())
        assert wait_until(lambda: self.applied() >= expected, timeout_s=timeout_s, interval_s=0.5), (
            f"{self.applied()} of {expected} frames applied; a worker's log:\n{self.workers[-1].tail()}"
        )
        assert self.applied() == expected  # none twice

    def assert_order_and_one_hazard_each(self) -> None:
        with self.db.session() as session:
            for camera in CAMERAS:
                rows = session.execute(
                    select(m.FrameRecord.captured_at, m.FrameRecord.late)
                    .where(m.FrameRecord.camera_id == camera)
                    .order_by(m.FrameRecord.received_at)
                ).all()
                captured = [r.captured_at for r in rows]
                assert captured == sorted(captured), f"{camera}: frames not applied in capture order"
                assert len(captured) == len(set(captured)) == len(self.acknowledged[camera])
                assert not any(r.late for r in rows)
                hazards = session.scalars(select(m.HazardEvent).where(m.HazardEvent.camera_id == camera)).all()
                assert len(hazards) == 1, f"{camera}: {len(hazards)} hazards: {[h.engine_key for h in hazards]}"

    def owners(self) -> dict[int, str | None]:
        with self.db.session() as session:
            return dict(session.execute(select(PartitionLease.partition, PartitionLease.owner_id)).tuples().all())

    def close(self) -> None:
        for node in [*self.workers, *self.ingests]:
            node.stop()
        self.db.dispose()


def test_two_ingests_three_workers_kill_join_and_broker_restart(
    tmp_path: Path, schema_url: str, nats_server: NatsServer, default_model_path: Path
) -> None:
    county = County(tmp_path, schema_url, nats_server, default_model_path)
    try:
        # 1. steady pushing: 16 frames a camera, 75 s of capture time: the dwell (60 s) passes
        county.push_steps(range(16))
        county.wait_applied()
        county.assert_order_and_one_hazard_each()
        owners = county.owners()
        assert len(owners) == 8 and all(owners.values())

        # 2. a worker killed while frames flow
        halfway = threading.Event()
        victim = county.workers[0]
        killer = threading.Thread(target=lambda: (halfway.wait(60), victim.kill()))
        killer.start()
        county.push_steps(range(16, 28), during=halfway)
        killer.join()
        county.wait_applied()
        county.assert_order_and_one_hazard_each()
        assert wait_until(lambda: not any(o and f":{victim.pid}:" in o for o in county.owners().values()), 3 * LEASE_S)

        # 3. a worker joins: it gets its share (8 partitions, 3 live workers: at least 2) within the lease timeout
        joiner = county.node("worker")
        joiner.wait_ready()
        county.workers.append(joiner)
        joined = time.monotonic()
        assert wait_until(
            lambda: sum(bool(o and f":{joiner.pid}:" in o) for o in county.owners().values()) >= 2,
            timeout_s=LEASE_S,
            interval_s=0.1,
        ), county.owners()
        print(f"joining worker held its share after {time.monotonic() - joined:.2f} s")

        # 4. the broker killed and started again
        nats_server.kill()
        refused = county.push(CAMERAS[0], 28, county.ingests[0])
        assert refused.status_code == 503 and refused.json()["detail"]["reason"] == "broker_unavailable"
        nats_server.start()
        assert wait_until(lambda: county.push(CAMERAS[0], 28, county.ingests[0]).status_code == 202, 30, 0.5)
        county.acknowledged[CAMERAS[0]].append(28)
        county.push_steps(range(29, 34))
        county.wait_applied()
        county.assert_order_and_one_hazard_each()
    finally:
        county.close()
