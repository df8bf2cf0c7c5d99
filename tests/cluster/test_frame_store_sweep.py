"""The frame store's sweep deletes bytes older than the stream keeps messages (no message can come for them)
and nothing younger: a frame waiting for its worker, or one whose publish a client is retrying."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

from service.cluster.frame_store_sweep import MARGIN_S, FrameStoreSweep
from service.cluster.ingest import storage_key
from service.cluster.messages import FrameMessage
from service.store.evidence import EvidenceStore

MAX_AGE_S = 3 * 86_400.0
JPEG = b"\xff\xd8\xff\xe0" + b"frame" * 20


def stored(store: EvidenceStore, camera: str, age_s: float, now: float) -> Path:
    frame_id = FrameMessage.frame_id_for(camera, datetime(2026, 12, 1, tzinfo=UTC), f"{camera}{age_s}")
    key = storage_key(3, camera, frame_id, JPEG)
    store.save(key, JPEG)
    path = store.root / key
    os.utime(path, (now - age_s, now - age_s))
    return path


def test_only_bytes_older_than_the_streams_max_age_are_removed(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "incoming")
    now = time.time()
    orphan = stored(store, "gate-1", MAX_AGE_S + MARGIN_S + 60, now)  # its message left the stream long ago
    recent = stored(store, "gate-1", 30, now)  # waiting for its worker
    near = stored(store, "stair-2", MAX_AGE_S + 60, now)  # past max_age, within the clocks' margin: kept
    sweep = FrameStoreSweep(store.root, MAX_AGE_S)
    assert sweep.run_once(now) == (1, len(JPEG))
    assert not orphan.exists() and recent.exists() and near.exists()
    assert sweep.run_once(now) == (0, 0)  # nothing left to do; a second sweeper finds the same


def test_the_sweep_runs_on_its_own_thread_until_closed(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path / "incoming")
    orphan = stored(store, "gate-1", MAX_AGE_S + MARGIN_S + 60, time.time())
    sweep = FrameStoreSweep(store.root, MAX_AGE_S).start(every_s=3600)  # a round at once, then hourly
    try:
        deadline = time.monotonic() + 10
        while orphan.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        sweep.close()
    assert not orphan.exists()
