"""Delivery load check: N hazards opened through the outbox, delivered by the dispatcher to a local webhook
receiver (a separate process, so it does not share the GIL), some answers failing on purpose.

    .venv/bin/python bench/delivery_load.py                 # 10,000 hazards on a temporary SQLite
    .venv/bin/python bench/delivery_load.py --smoke         # 300 hazards, proves it runs (CI)
    .venv/bin/python bench/delivery_load.py --database postgresql+psycopg://postgres@127.0.0.1/db

Reports deliveries/s, and checks that no message was lost and that every duplicate the receiver saw
carried an idempotency key it had already processed (that is the only duplication allowed).
Exits non-zero when a check fails.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import multiprocessing
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import yaml
from sqlalchemy import func, select

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from service.config.settings import DEMO_SITE  # noqa: E402
from service.config.site import parse_site  # noqa: E402
from service.delivery.dispatcher import Dispatcher  # noqa: E402
from service.delivery.outbox import Outbox  # noqa: E402
from service.delivery.service import DeliveryService  # noqa: E402
from service.delivery.settings import DeliverySettings  # noqa: E402
from service.hazards.routing import assign  # noqa: E402
from service.store.db import Database, utcnow  # noqa: E402
from service.store.delivery_models import Delivery  # noqa: E402
from service.store.evidence import EvidenceStore  # noqa: E402
from service.store.hazard_writer import HazardWriter, NewHazard  # noqa: E402
from service.store.migrate import upgrade  # noqa: E402
from service.store.site_sync import sync_site  # noqa: E402

SECRET = "bench-secret-0123456789abcdef"


def receiver_process(port: int, fail_every: int, ready: multiprocessing.Event) -> None:  # type: ignore[valid-type]
    """Verifies every signature; answers 503 to every `fail_every`-th request; counts keys."""
    seen: Counter[str] = Counter()
    state = {"requests": 0, "bad_signatures": 0, "failed_on_purpose": 0}
    lock = threading.Lock()  # handler threads: counts must be exact

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real receiver behind a proxy

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/report":
                with lock:
                    return self.answer(200, json.dumps({"keys": seen, **state}).encode())
            timestamp = self.headers.get("X-Clearway-Timestamp", "")
            mac = hmac.new(SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
            with lock:
                state["requests"] += 1
                if not hmac.compare_digest(self.headers.get("X-Clearway-Signature", ""), f"v1={mac}"):
                    state["bad_signatures"] += 1
                    status = 401
                elif fail_every and state["requests"] % fail_every == 0:
                    state["failed_on_purpose"] += 1
                    status = 503
                else:
                    seen[self.headers["Idempotency-Key"]] += 1
                    status = 204
            self.answer(status, b"{}" if status != 204 else b"")

        def answer(self, status: int, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    ready.set()
    server.serve_forever()


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def build_site(url: str):
    data = yaml.safe_load(DEMO_SITE.read_text(encoding="utf-8"))
    for agency in data["agencies"]:
        if agency["id"] == "pm-lanting":
            agency["channels"] = [{"type": "webhook", "url": url, "secret": SECRET, "timeout_s": 10}]
    data["escalation"] = {"enabled": False}
    return parse_site(data)


def open_hazards(db: Database, writer: HazardWriter, site, count: int, batch: int = 500) -> float:
    """Through the product's hazard writer: hazard, recipients, "opened" history, committed with outbox rows."""
    started = time.perf_counter()
    camera = site.camera("lanting-gate")
    now = utcnow()
    for first in range(0, count, batch):
        with db.session() as session:
            for i in range(first, min(count, first + batch)):
                at = now - timedelta(seconds=count - i)
                new = NewHazard(
                    engine_key=f"bench-{i}",
                    kind="vehicle_in_fire_lane",
                    camera_id=camera.id,
                    compound_id=camera.compound,
                    zone_key="fire-lane-north",
                    zone_type="fire_lane",
                    category="vehicle",
                    class_name="car",
                    confidence=0.9,
                    box=[0.1, 0.6, 0.3, 0.9],
                    first_seen_at=at,
                    opened_at=at,
                )
                assignment = assign(site, camera.compound, new.kind, at, "fire_lane", "vehicle")
                writer.open(session, new, assignment, "bench")
    return time.perf_counter() - started


def crash(db: Database, site, settings: DeliverySettings, writer: HazardWriter, after: int) -> int:
    """A dispatcher that dies between sending and recording; returns how many rows it left claimed."""
    sends = itertools.count(1)

    def die(outcome: object) -> None:
        if next(sends) >= after:
            raise SystemExit("simulated crash between send and mark")

    doomed = Dispatcher(db, lambda: site, settings, writer, after_send=die)
    try:
        while doomed.run_once().claimed:
            pass
    except SystemExit:
        pass
    finally:
        doomed.close()
    with db.session() as session:
        return session.scalar(select(func.count()).where(Delivery.status == "pending", Delivery.attempts > 0)) or 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hazards", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help="300 hazards")
    parser.add_argument("--database", help="SQLAlchemy URL of an EMPTY database (default: temporary SQLite)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=200)
    parser.add_argument("--fail-every", type=int, default=50, help="receiver answers 503 to every n-th request")
    parser.add_argument("--crash-after", type=int, default=2500, help="the dispatcher dies after this many sends")
    args = parser.parse_args()
    count = 300 if args.smoke else args.hazards
    crash_after = min(args.crash_after, count // 3)

    workdir = Path(tempfile.mkdtemp(prefix="clearway-delivery-bench-"))
    url = args.database or f"sqlite:///{workdir / 'bench.db'}"
    port = free_port()
    ready = multiprocessing.Event()
    receiver = multiprocessing.Process(target=receiver_process, args=(port, args.fail_every, ready), daemon=True)
    receiver.start()
    if not ready.wait(30):
        print("receiver did not start", file=sys.stderr)
        return 2

    db = Database(url)
    upgrade(db.engine)
    site = build_site(f"http://127.0.0.1:{port}/hook")
    with db.session() as session:
        sync_site(session, site)
    settings = DeliverySettings(
        background=False,
        concurrency=args.concurrency,
        batch_size=args.batch_size,
        backoff_base_s=0.05,
        backoff_max_s=0.5,
        lease_s=2,  # short, so the batch lost in the crash comes back quickly
    )
    outbox = Outbox(lambda: site, settings)
    writer = HazardWriter(EvidenceStore(workdir / "evidence"), sink=outbox)
    service = DeliveryService(db, lambda: site, settings, writer, outbox)
    try:
        writing_s = open_hazards(db, writer, site, count)
        with db.session() as session:
            queued = session.scalar(select(func.count()).select_from(Delivery))
        print(f"{count} hazards opened, {queued} deliveries queued in {writing_s:.1f} s (outbox write path)")

        started = time.perf_counter()
        crash_lost = crash(db, site, settings, writer, crash_after) if crash_after else 0
        rounds = 0
        deadline = started + 600
        while time.perf_counter() < deadline:
            stats = service.dispatcher.run_once()
            rounds += 1
            if stats.claimed == 0:
                with db.session() as session:
                    pending = session.scalar(select(func.count()).where(Delivery.status == "pending"))
                if not pending:
                    break
                time.sleep(0.05)  # retries not yet due
        elapsed = time.perf_counter() - started
        report = httpx.post(f"http://127.0.0.1:{port}/report", timeout=30).json()
    finally:
        service.close()
        receiver.terminate()

    with db.session() as session:
        by_status = dict(session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all())
        keys = set(session.scalars(select(Delivery.idempotency_key)))
        attempts = session.scalar(select(func.sum(Delivery.attempts))) or 0
    db.dispose()
    received: dict[str, int] = report["keys"]
    lost = keys - set(received)
    unknown = set(received) - keys
    duplicates = sum(n - 1 for n in received.values())
    delivered = by_status.get("delivered", 0)
    print(f"dispatched in {elapsed:.1f} s over {rounds} rounds: {delivered / elapsed:,.0f} deliveries/s")
    if crash_after:
        print(f"dispatcher crashed after {crash_after} sends; {crash_lost} rows were then claimed or awaiting retry")
    print(f"statuses {by_status}; attempts {attempts} (receiver failed {report['failed_on_purpose']} on purpose)")
    print(
        f"receiver: {report['requests']} requests, {len(received)} distinct keys processed, "
        f"{duplicates} duplicates (same key), {report['bad_signatures']} bad signatures"
    )
    print(f"lost: {len(lost)}, unknown keys: {len(unknown)}")
    ok = not lost and not unknown and delivered == queued == len(received) and report["bad_signatures"] == 0
    print("OK: every delivery arrived, duplicates only under an already-seen key" if ok else "FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
