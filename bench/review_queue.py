"""Review queue at scale: page times of the queue (pages and API) over 100,000 hazards.

    .venv/bin/python bench/review_queue.py                  # 100,000 hazards on a temporary SQLite
    .venv/bin/python bench/review_queue.py --database-url postgresql+psycopg://...   # an EMPTY database
    .venv/bin/python bench/review_queue.py --smoke          # 2,000 hazards, proves it runs

Hazards are bulk-inserted (spread over 4 cameras, 2 compounds, every status, 100 days), then each page is
fetched through the real app (TestClient, logged-in session) a number of times: median and worst printed.
Keyset pagination means a deep page (cursor in the middle) should cost what the first page costs.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient
from sqlalchemy import insert, select, text

from service.api.app import create_app
from service.auth.keys import create_key
from service.auth.users import create_user
from service.config.duties import camera_kind
from service.config.settings import Settings
from service.store import models as m
from service.vision.types import Detections

CAMERAS = [
    ("lanting-gate", "lanting", "fire-lane-north", "fire_lane"),
    ("lanting-b3-stair", "lanting", "stair-b3", "stairwell"),
    ("huayuan-lane", "huayuan", "fire-lane-central", "fire_lane"),
    ("huayuan-corridor", "huayuan", "corridor-a", "evacuation_route"),
]
STATUSES = (
    ["open"] * 3 + ["notified"] * 2 + ["acknowledged", "rectified", "rectified", "dismissed", "cleared", "cleared"]
)
CATEGORIES = [("vehicle", "car"), ("two_wheeler", "motorcycle"), ("clutter", "suitcase")]


class NoDetector:
    def detect(self, image: object) -> Detections:
        return Detections.empty()


def fill(runtime: object, count: int) -> None:
    rng = random.Random(7)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    chunk = []
    with runtime.db.engine.begin() as conn:  # type: ignore[attr-defined]
        for i in range(count):
            camera, compound, zone, zone_type = rng.choice(CAMERAS)
            category, class_name = rng.choice(CATEGORIES)
            opened = start + timedelta(seconds=i * 86 + rng.randint(0, 60))
            status = rng.choice(STATUSES)
            chunk.append(
                {
                    "engine_key": f"bench-{i}",
                    "kind": camera_kind(zone_type, category),
                    "camera_id": camera,
                    "compound_id": compound,
                    "zone_key": zone,
                    "zone_type": zone_type,
                    "category": category,
                    "class_name": class_name,
                    "status": status,
                    "severity": "minor",
                    "confirmed": rng.random() < 0.2,
                    "confidence": 0.8,
                    "box": [10, 20, 30, 40],
                    "first_seen_at": opened - timedelta(minutes=5),
                    "opened_at": opened,
                    "last_seen_at": opened + timedelta(minutes=rng.randint(0, 90)),
                    "closed_at": opened + timedelta(hours=2)
                    if status in ("rectified", "dismissed", "cleared")
                    else None,
                }
            )
            if len(chunk) == 5000:
                conn.execute(insert(m.HazardEvent), chunk)
                chunk = []
        if chunk:
            conn.execute(insert(m.HazardEvent), chunk)


def timed(client: TestClient, url: str, runs: int, **kwargs: object) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url, **kwargs)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
    return statistics.median(times), max(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hazards", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--database-url", help="default: a temporary SQLite file")
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    count, runs = (2_000, 3) if args.smoke else (args.hazards, args.runs)
    tmp = Path(tempfile.mkdtemp(prefix="clearway-queue-bench-"))
    settings = Settings(data_dir=tmp, database_url=args.database_url or f"sqlite:///{tmp / 'bench.db'}")
    with TestClient(create_app(settings, detector_factory=NoDetector)) as client:
        runtime = client.app.state.runtime
        started = time.perf_counter()
        fill(runtime, count)
        backend = runtime.db.engine.url.get_backend_name()
        if backend == "postgresql":  # what autovacuum does shortly after a bulk load (SQLite: see queries.py)
            with runtime.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE hazard_events"))
        print(f"{count} hazards inserted in {time.perf_counter() - started:.1f} s ({backend})")
        with runtime.db.session() as session:
            for role, agency, name in (
                ("police", "ps-chengguan", "bench-police"),
                ("property", "pm-lanting", "bench-pm"),
            ):
                create_user(session, name, "bench-password-1", role, agency)
            key = create_key(session, "bench", "police", "ps-chengguan")
            middle = sorted(session.scalars(select(m.HazardEvent.id)))[count // 2]
        pages = {}
        for user in ("bench-police", "bench-pm"):
            browser = TestClient(client.app)
            token = re.search(r'name="csrf_token" value="([^"]+)"', browser.get("/web/login").text).group(1)
            browser.post("/web/login", data={"username": user, "password": "bench-password-1", "csrf_token": token})
            pages[user] = browser
        cases = [
            ("queue, first page (to do, newest)", "bench-police", "/web/hazards"),
            ("queue, all statuses", "bench-police", "/web/hazards?status=all"),
            ("queue, deep page (cursor mid-way)", "bench-police", f"/web/hazards?status=all&cursor={middle}"),
            ("queue, previous page (before mid-way)", "bench-police", f"/web/hazards?status=all&before={middle}"),
            ("queue, oldest first", "bench-police", "/web/hazards?status=all&order=oldest"),
            (
                "queue, filtered camera+category+status",
                "bench-police",
                "/web/hazards?camera=huayuan-lane&category=clutter&status=open",
            ),
            ("queue, date range (one week)", "bench-police", "/web/hazards?status=all&from=2026-02-01&to=2026-02-07"),
            (
                "queue, rare filter (dismissed clutter)",
                "bench-police",
                "/web/hazards?status=dismissed&category=clutter",
            ),
            ("queue, property manager (own compound)", "bench-pm", "/web/hazards?status=all"),
            ("hazard page (mid-way, with next/prev)", "bench-police", f"/web/hazards/{middle}?status=all"),
            ("cameras page (health + counts)", "bench-police", "/web/cameras"),
        ]
        print(f"{'page':48} {'median ms':>10} {'worst ms':>10}")
        for label, user, url in cases:
            median, worst = timed(pages[user], url, runs)
            print(f"{label:48} {median:10.1f} {worst:10.1f}")
        median, worst = timed(client, "/api/v1/hazards?limit=50", runs, headers={"Authorization": f"Bearer {key}"})
        print(f"{'API list, first page (same query code)':48} {median:10.1f} {worst:10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
