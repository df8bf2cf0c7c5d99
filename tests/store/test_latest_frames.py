"""The latest view of every camera: written, throttled per camera, replaced atomically with its capture time,
never older than what it replaces, cleaned up for cameras no longer in the site, and no path from a bad id."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from service.store.latest_frames import LatestFrames, is_jpeg

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def jpeg(colour: tuple[int, int, int], size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, format="JPEG")
    return buffer.getvalue()


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_first_frame_is_written_with_its_capture_time(tmp_path: Path) -> None:
    store = LatestFrames(tmp_path / "latest", every_s=120)
    assert store.get("cam-1") is None and store.read("cam-1") is None
    red = jpeg((200, 0, 0))
    assert store.offer("cam-1", T0, 64, 48, lambda: red)
    view = store.get("cam-1")
    assert view is not None and (view.captured_at, view.width, view.height) == (T0, 64, 48)
    assert (tmp_path / "latest" / "cam-1.jpg").read_bytes() == red
    assert store.read("cam-1") == (T0, red)
    # a restart reads what is on disk: the time comes back from the file itself
    again = LatestFrames(tmp_path / "latest").get("cam-1")
    assert again is not None and (again.captured_at, again.width, again.height) == (T0, 64, 48)


def test_writes_are_throttled_per_camera_and_never_go_back_in_time(tmp_path: Path) -> None:
    clock = Clock()
    store = LatestFrames(tmp_path, every_s=120, clock=clock)
    calls: list[str] = []

    def picture(name: str, colour: tuple[int, int, int]):
        def make() -> bytes:
            calls.append(name)
            return jpeg(colour)

        return make

    assert store.offer("cam-1", T0, 64, 48, picture("first", (10, 10, 10)))
    clock.now += 30
    assert not store.offer("cam-1", T0 + timedelta(seconds=30), 64, 48, picture("too soon", (20, 20, 20)))
    assert store.offer("cam-2", T0 + timedelta(seconds=30), 64, 48, picture("other camera", (30, 30, 30)))
    clock.now += 100
    assert not store.offer("cam-1", T0 - timedelta(seconds=5), 64, 48, picture("late frame", (40, 40, 40)))
    assert store.offer("cam-1", T0 + timedelta(seconds=130), 64, 48, picture("due", (50, 50, 50)))
    assert calls == ["first", "other camera", "due"]  # the picture is made only when it is written
    assert store.get("cam-1").captured_at == T0 + timedelta(seconds=130)


def test_a_replacement_is_atomic(tmp_path: Path) -> None:
    """os.replace: a reader holding the old file reads it whole; no temp file stays; the new one is complete."""
    store = LatestFrames(tmp_path, every_s=0)
    old, new = jpeg((0, 0, 200)), jpeg((0, 200, 0), (80, 60))
    store.offer("cam-1", T0, 64, 48, lambda: old)
    path = tmp_path / "cam-1.jpg"
    with path.open("rb") as reader:
        store.offer("cam-1", T0 + timedelta(minutes=3), 80, 60, lambda: new)
        assert reader.read() == old  # the reader's file was swapped out, not overwritten
    assert path.read_bytes() == new
    assert [p.name for p in tmp_path.iterdir()] == ["cam-1.jpg"]
    assert store.read("cam-1") == (T0 + timedelta(minutes=3), new)


def test_a_disk_error_is_logged_not_raised_and_the_next_frame_tries_again(tmp_path: Path) -> None:
    store = LatestFrames(tmp_path / "latest", every_s=120)
    (tmp_path / "latest").rmdir()  # the directory vanished (a bad mount): writing fails
    assert not store.offer("cam-1", T0, 64, 48, lambda: jpeg((1, 2, 3)))
    (tmp_path / "latest").mkdir()
    assert store.offer("cam-1", T0 + timedelta(seconds=1), 64, 48, lambda: jpeg((1, 2, 3)))  # not throttled


def test_a_torn_file_reads_as_no_view(tmp_path: Path) -> None:
    (tmp_path / "cam-1.jpg").write_bytes(b"\xff\xd8\xff\xe0 cut short by a power failure")
    store = LatestFrames(tmp_path)
    assert store.get("cam-1") is None
    assert store.offer("cam-1", T0, 64, 48, lambda: jpeg((9, 9, 9)))  # and the next frame replaces it
    assert store.get("cam-1") is not None


def test_cameras_no_longer_in_the_site_lose_their_view(tmp_path: Path) -> None:
    store = LatestFrames(tmp_path, every_s=0)
    for camera in ("kept", "gone"):
        store.offer(camera, T0, 64, 48, lambda: jpeg((5, 5, 5)))
    (tmp_path / "notes.txt").write_text("not ours")
    assert store.retain(["kept"]) == ["gone"]
    assert store.get("gone") is None and store.get("kept") is not None
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kept.jpg", "notes.txt"]


def test_a_crash_mid_write_leaves_nothing_after_a_restart(tmp_path: Path) -> None:
    (tmp_path / ".tmp-crashed").write_bytes(b"half a picture")
    LatestFrames(tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("camera_id", ["../evil", "a/b", "", ".hidden", "x" * 65, "cam\x00"])
def test_ids_that_are_not_camera_ids_never_become_paths(tmp_path: Path, camera_id: str) -> None:
    store = LatestFrames(tmp_path / "latest")
    assert not store.offer(camera_id, T0, 64, 48, lambda: jpeg((1, 1, 1)))
    assert store.get(camera_id) is None and store.read(camera_id) is None
    with pytest.raises(ValueError):
        store.path_of(camera_id)
    assert list((tmp_path / "latest").iterdir()) == [] and not (tmp_path / "evil").exists()


def test_jpeg_signature() -> None:
    assert is_jpeg(jpeg((1, 1, 1))) and not is_jpeg(b"\x89PNG\r\n\x1a\n") and not is_jpeg(b"")
