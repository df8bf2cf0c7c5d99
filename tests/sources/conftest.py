"""Fixtures for the RTSP tests: a clip made from a real photo, a local RTSP server, bounded supervisors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.config.site import Camera
from service.sources import ReaderOptions, StreamSupervisor
from tests.conftest import server_unavailable
from tests.sources.support.harness import RtspServer, make_clip, missing_tools

FAST = ReaderOptions(backoff_initial_s=0.2, backoff_max_s=1.0, probe_s=0.5, frame_stall_min_s=5.0)
"""Short backoff so reconnect cases finish in seconds."""


def rtsp_camera(camera_id: str, url: str, **rtsp: object) -> Camera:
    settings = {"url": url, "sample_interval_s": 1.0, "open_timeout_s": 3.0, "read_timeout_s": 2.0, **rtsp}
    return Camera(id=camera_id, compound="c1", source="rtsp", rtsp=settings)


@pytest.fixture(scope="session")
def stream_tools() -> None:
    why = missing_tools()
    if why:
        server_unavailable("RTSP test server", why)


@pytest.fixture(scope="session")
def clip(stream_tools: None, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """10 s, 320x240, 10 fps, a keyframe every second: small, so decoding costs the tests little."""
    return make_clip(tmp_path_factory.mktemp("clip") / "bus.mp4", width=320, height=240, fps=10, gop_s=1.0)


@pytest.fixture()
def rtsp_server(clip: Path) -> Iterator[RtspServer]:
    server = RtspServer(clip, fps=10).start()
    yield server
    server.kill()


@pytest.fixture()
def supervisors() -> Iterator[Callable[..., StreamSupervisor]]:
    """Factory for supervisors that are always stopped (bounded) at the end of the test."""
    made: list[StreamSupervisor] = []

    def make(*args: object, **kwargs: object) -> StreamSupervisor:
        kwargs.setdefault("options", FAST)
        supervisor = StreamSupervisor(*args, **kwargs)  # type: ignore[arg-type]
        made.append(supervisor)
        return supervisor

    yield make
    for supervisor in made:
        supervisor.stop(timeout=10)
