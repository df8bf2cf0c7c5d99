"""The disk-space guard and the stored-file helpers, with the free-space function injected (no full disk)."""

from __future__ import annotations

import os
import time
from collections import namedtuple
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from service.store.disk import (
    DiskFullError,
    DiskGuard,
    delete_stored,
    disk_state,
    remove_leftover_temp_files,
    worst_disk_state,
)

Usage = namedtuple("Usage", "total used free")
MIB = 1024**2


def usage_of(free: dict[str, int], total: int = 100 * MIB):
    """A shutil.disk_usage stand-in: free bytes by path (what was asked is noted)."""
    asked: list[Path] = []

    def usage(path: Path) -> Usage:
        asked.append(path)
        left = free.get(str(path), free.get("*", 0))
        return Usage(total, total - left, left)

    usage.asked = asked  # type: ignore[attr-defined]
    return usage


def test_below_the_threshold_is_not_ok(tmp_path: Path) -> None:
    state = disk_state(tmp_path, 10 * MIB, usage_of({"*": 9 * MIB}))
    assert (state.free_bytes, state.total_bytes, state.ok) == (9 * MIB, 100 * MIB, False)
    assert "9 MiB free" in state.message() and "below 10 MiB" in state.message()
    assert disk_state(tmp_path, 10 * MIB, usage_of({"*": 10 * MIB})).ok
    assert disk_state(tmp_path, 10 * MIB).total_bytes > 0  # the real shutil.disk_usage by default


def test_a_missing_directory_is_asked_about_its_nearest_parent(tmp_path: Path) -> None:
    usage = usage_of({"*": 50 * MIB})
    state = disk_state(tmp_path / "data" / "evidence", MIB, usage)
    assert state.ok and usage.asked == [tmp_path]  # type: ignore[attr-defined]


def test_a_failing_file_system_is_not_ok(tmp_path: Path) -> None:
    def broken(path: Path) -> Usage:
        raise PermissionError("statvfs refused")

    state = disk_state(tmp_path, MIB, broken)
    assert not state.ok and state.error is not None and "unknown" in state.message()
    assert state.to_json()["error"].startswith("PermissionError")


def test_the_worst_of_several_mounts_counts(tmp_path: Path) -> None:
    db_dir, evidence = tmp_path / "db", tmp_path / "evidence"
    db_dir.mkdir(), evidence.mkdir()
    usage = usage_of({str(db_dir): 80 * MIB, str(evidence): 5 * MIB})
    state = worst_disk_state([db_dir, evidence], 10 * MIB, usage)
    assert not state.ok and state.path == str(evidence)


def test_the_guard_raises_and_its_gauges_follow(tmp_path: Path) -> None:
    free = {"*": 500 * MIB}
    guard = DiskGuard([tmp_path], 100 * MIB, usage_of(free))
    assert guard.check().ok
    registry = CollectorRegistry()
    guard.register(registry)
    assert registry.get_sample_value("clearway_disk_accepting_frames") == 1.0
    free["*"] = 50 * MIB
    with pytest.raises(DiskFullError) as refused:
        guard.check()
    assert refused.value.state.free_bytes == 50 * MIB
    assert registry.get_sample_value("clearway_disk_free_bytes") == 50 * MIB
    assert registry.get_sample_value("clearway_disk_accepting_frames") == 0.0


def test_temp_files_left_by_a_crash_go_those_being_written_stay(tmp_path: Path) -> None:
    (tmp_path / "frames" / "cam").mkdir(parents=True)
    stale, fresh = tmp_path / "frames" / "cam" / ".tmp-abc", tmp_path / ".tmp-def"
    kept = tmp_path / "frames" / "cam" / "frame.jpg"
    for path in (stale, fresh, kept):
        path.write_bytes(b"12345")
    an_hour_ago = time.time() - 3601
    os.utime(stale, (an_hour_ago, an_hour_ago))
    os.utime(kept, (an_hour_ago, an_hour_ago))
    assert remove_leftover_temp_files(tmp_path, older_than_s=3600) == (1, 5)
    assert not stale.exists() and fresh.exists() and kept.exists()
    assert remove_leftover_temp_files(tmp_path, older_than_s=0, now=time.time() + 1) == (1, 5)


def test_deleting_a_stored_file_stays_inside_the_store(tmp_path: Path) -> None:
    root = (tmp_path / "evidence").resolve()
    (root / "hazards").mkdir(parents=True)
    (root / "hazards" / "a.jpg").write_bytes(b"abc")
    (tmp_path / "outside.jpg").write_bytes(b"abc")
    assert delete_stored(root, "hazards/a.jpg") == 3
    assert delete_stored(root, "hazards/a.jpg") is None  # already gone: not counted again
    assert delete_stored(root, "../outside.jpg") is None and (tmp_path / "outside.jpg").exists()
