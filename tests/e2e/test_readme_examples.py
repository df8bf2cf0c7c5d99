"""The README's API examples, word for word, against the demo as `make run` starts it (keys from `clearway keys
demo`, the real offline model, a real uvicorn): they open hazard 1 now, acknowledge it within its deadline and
dismiss it, and nothing is overdue or escalated, on whatever day the suite runs. Only the address is changed
(a free port instead of 8000)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn

from service.api.app import create_app
from service.config.settings import Settings
from service.runtime import Runtime
from tests.conftest import REPO
from tests.support import free_port, wait_until

README = REPO / "README.md"
ADDRESS = "http://127.0.0.1:8000"


def api_examples() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("source data/demo-keys.env")
    return text[start : text.index("```", start)]


def test_the_examples_hold_no_fixed_date_and_no_file_a_clone_lacks() -> None:
    block = api_examples()
    assert not re.search(r"\b20\d\d-\d\d-\d\d", block), "a fixed date goes stale: use $(date ...)"
    assert "$(date" in block
    for name in re.findall(r"@([\w./-]+)", block):
        assert name.startswith((".venv/", "$")) or f"> {name}" in block or f"'{name}'" in block, name


@pytest.fixture
def demo(default_model_path: Path, tmp_path: Path) -> Iterator[tuple[str, Runtime, Path]]:
    """A fresh clone's working directory: the venv, `clearway keys demo`, then the service on a free port."""
    venv = Path(sys.prefix)
    if not (venv / "lib" / "python3.11" / "site-packages" / "ultralytics" / "assets" / "bus.jpg").is_file():
        pytest.skip(f"the README's examples name a Python 3.11 venv's files; this one is {venv}")
    (tmp_path / ".venv").symlink_to(venv)
    data = tmp_path / "data"
    database = f"sqlite:///{data / 'clearway.db'}"
    env = os.environ | {"CLEARWAY_DATA_DIR": str(data), "DATABASE_URL": database}
    made = subprocess.run(
        [str(venv / "bin" / "clearway"), "keys", "demo"], cwd=tmp_path, env=env, capture_output=True, timeout=120
    )
    assert made.returncode == 0, made.stderr
    settings = Settings(data_dir=data, database_url=database, models_dir=default_model_path.parent)
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, name="readme-uvicorn", daemon=True)
    thread.start()
    wait_until(lambda: server.started or not thread.is_alive(), timeout_s=60)
    assert server.started, "uvicorn did not start within 60 s"
    try:
        yield f"http://127.0.0.1:{port}", app.state.runtime, tmp_path
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def keys(workdir: Path) -> dict[str, str]:
    lines = (workdir / "data" / "demo-keys.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))


@pytest.mark.model
def test_the_examples_open_a_hazard_that_is_neither_overdue_nor_escalated(demo) -> None:
    base, runtime, workdir = demo
    script = api_examples().replace(ADDRESS, base)
    started = datetime.now(UTC)
    ran = subprocess.run(["bash", "-e"], input=script, cwd=workdir, capture_output=True, text=True, timeout=300)
    assert ran.returncode == 0, ran.stderr
    assert '"change":"opened","hazard_id":1' in ran.stdout, ran.stdout[:2000]
    assert (workdir / "annotated.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    admin = {"Authorization": f"Bearer {keys(workdir)['ADMIN_KEY']}"}
    hazard = httpx.get(f"{base}/api/v1/hazards/1", headers=admin, timeout=30).json()
    opened, due = datetime.fromisoformat(hazard["opened_at"]), datetime.fromisoformat(hazard["acknowledge_due_at"])
    assert started - timedelta(minutes=1) <= opened <= datetime.now(UTC) + timedelta(seconds=5)
    assert due - opened == timedelta(minutes=30)
    history = [(h["action"], datetime.fromisoformat(h["at"])) for h in hazard["history"]]
    assert [action for action, _ in history] == ["opened", "acknowledged", "dismissed"]
    assert history[1][1] < due  # acknowledged in time
    assert hazard["status"] == "dismissed" and hazard["dismiss_reason"] == "false_positive: reflection"
    assert runtime.delivery.escalation.run_once() == []  # nothing due now
