"""Per-camera locks: one camera's work is serialised, other cameras run alongside, `all` excludes every camera."""

from __future__ import annotations

import threading

from service.camera_locks import CameraLocks


def holding(locks: CameraLocks, camera_id: str, entered: threading.Event, release: threading.Event):
    """A thread that takes `one(camera_id)`, says so, and holds it until `release`."""

    def run() -> None:
        with locks.one(camera_id):
            entered.set()
            assert release.wait(10)

    thread = threading.Thread(target=run, name=f"hold-{camera_id}", daemon=True)
    thread.start()
    return thread


def test_one_camera_is_serialised() -> None:
    locks, release = CameraLocks(), threading.Event()
    first, second = threading.Event(), threading.Event()
    holders = [holding(locks, "gate", first, release)]
    try:
        assert first.wait(10)
        holders.append(holding(locks, "gate", second, release))
        assert not second.wait(0.2), "a second holder of the same camera got in"
        release.set()
        assert second.wait(10)
    finally:
        release.set()
        for thread in holders:
            thread.join(10)


def test_different_cameras_do_not_wait_for_each_other() -> None:
    locks, release = CameraLocks(), threading.Event()
    gate, stair = threading.Event(), threading.Event()
    holders = [holding(locks, "gate", gate, release), holding(locks, "stair", stair, release)]
    try:
        assert gate.wait(10) and stair.wait(10), "both cameras are held at the same time"
    finally:
        release.set()
        for thread in holders:
            thread.join(10)


def test_all_waits_for_every_known_camera_and_keeps_them_out() -> None:
    locks, release = CameraLocks(), threading.Event()
    with locks.one("known"):  # now known to the locks, though `all` below does not name it
        pass
    held = threading.Event()
    threads = [holding(locks, "known", held, release)]
    assert held.wait(10)
    got_all, leave_all = threading.Event(), threading.Event()

    def take_all() -> None:
        with locks.all(["named"]):
            got_all.set()
            assert leave_all.wait(10)

    threads.append(threading.Thread(target=take_all, name="take-all", daemon=True))
    threads[-1].start()
    try:
        assert not got_all.wait(0.2), "all() got in while a known camera was mid-frame"
        release.set()
        assert got_all.wait(10)
        entered = {camera_id: threading.Event() for camera_id in ("known", "named")}
        threads += [holding(locks, camera_id, event, release) for camera_id, event in entered.items()]
        assert not any(event.wait(0.2) for event in entered.values()), "a camera got in while all() held it"
        leave_all.set()
        assert all(event.wait(10) for event in entered.values())
    finally:
        release.set()
        leave_all.set()
        for thread in threads:
            thread.join(10)
