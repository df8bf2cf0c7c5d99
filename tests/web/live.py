"""A real uvicorn server on a free 127.0.0.1 port (in a thread) and Debian's Chromium via Playwright.

Every wait is bounded. Without Chromium or Playwright the browser tests skip (fail under
CLEARWAY_REQUIRE_SERVERS=1). Screenshots go to test-output/web/.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from service.api.app import create_app
from service.auth.keys import create_key
from service.config.settings import Settings
from service.runtime import Runtime
from tests.conftest import REPO, server_unavailable
from tests.support import ScriptedDetector, free_port, wait_until
from tests.web.support import PASSWORD, PEOPLE

CHROMIUM = Path(os.environ.get("CLEARWAY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SHOTS = REPO / "test-output" / "web"


@dataclass
class LiveSite:
    base: str
    detector: ScriptedDetector
    runtime: Runtime
    keys: dict[str, str]

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.base, timeout=30)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveSite]:
    """The whole service on SQLite with the scripted detector, one user per role, keys per role."""
    from service.auth.users import create_user

    detector = ScriptedDetector()
    settings = Settings(data_dir=tmp_path / "data", database_url=f"sqlite:///{tmp_path / 'live.db'}")
    app = create_app(settings, detector_factory=lambda: detector)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="live-uvicorn", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), timeout_s=30)
    assert server.started, "uvicorn did not start within 30 s"
    runtime: Runtime = app.state.runtime
    with runtime.db.session() as session:
        keys = {"gateway": create_key(session, "gw", "gateway", camera_ids=["lanting-gate", "lanting-b3-stair"])}
        for name, (role, agency) in PEOPLE.items():
            create_user(session, name, PASSWORD, role, agency, display_name=f"{name.title()} User")
    try:
        yield LiveSite(f"http://127.0.0.1:{port}", detector, runtime, keys)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        server_unavailable("chromium", f"{CHROMIUM} not found (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        server_unavailable("chromium", f"playwright not installed: {exc}")
    with sync_playwright() as playwright:
        try:
            instance = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
            )
        except Exception as exc:  # a broken Chromium install: report, do not hang
            server_unavailable("chromium", f"launch failed: {str(exc).splitlines()[0]}")
        yield instance
        instance.close()


def shot(page: object, name: str) -> Path:
    """Save a full-page screenshot under test-output/web/ (looked at by people, not compared)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
    return path


def scene_png(seed: int, objects: tuple = (), size: tuple[int, int] = (320, 180)) -> tuple[bytes, object]:
    """A plain drawn street scene (so screenshots are readable), with each object's box painted as a
    vehicle-ish shape; a few seeded pixels keep every frame distinct (duplicates are refused)."""
    import io

    import numpy as np
    from PIL import Image, ImageDraw

    width, height = size
    image = Image.new("RGB", size, (188, 208, 226))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, int(height * 0.3)), fill=(201, 217, 232))
    for i, x in enumerate(range(0, width, width // 6)):
        top = int(height * (0.08 + 0.04 * (i % 3)))
        draw.rectangle((x + 4, top, x + width // 6 - 6, int(height * 0.32)), fill=(150 + 10 * (i % 3), 150, 160))
    draw.rectangle((0, int(height * 0.3), width, int(height * 0.52)), fill=(120, 124, 130))
    draw.rectangle((0, int(height * 0.52), width, height), fill=(96, 100, 106))
    draw.line(
        (int(width * 0.05), int(height * 0.55), int(width * 0.95), int(height * 0.55)), fill=(240, 196, 25), width=3
    )
    draw.text((int(width * 0.38), int(height * 0.8)), "FIRE LANE", fill=(240, 196, 25))
    for _name, _category, (x1, y1, x2, y2) in objects:
        draw.rounded_rectangle((x1, y1 + (y2 - y1) * 0.3, x2, y2), radius=6, fill=(176, 42, 42))
        draw.rounded_rectangle(
            (x1 + (x2 - x1) * 0.2, y1, x2 - (x2 - x1) * 0.2, y1 + (y2 - y1) * 0.5), radius=5, fill=(150, 30, 30)
        )
        draw.rectangle(
            (x1 + (x2 - x1) * 0.27, y1 + 3, x2 - (x2 - x1) * 0.27, y1 + (y2 - y1) * 0.35), fill=(180, 210, 235)
        )
    rgb = np.array(image)
    rng = np.random.default_rng(seed)
    rgb[rng.integers(0, height, 8), rng.integers(0, width, 8)] = rng.integers(0, 255, (8, 3))
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="PNG")
    return buffer.getvalue(), rgb[:, :, ::-1].copy()
