"""An app on a temporary data dir, with the scripted detector, over SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from service.api.app import create_app
from service.auth.keys import create_key
from service.config.settings import Settings
from tests.support import ScriptedDetector


@dataclass
class Harness:
    client: TestClient
    detector: ScriptedDetector
    settings: Settings
    keys: dict[str, str]

    def headers(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


@pytest.fixture
def make_harness(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Harness]]:
    clients: list[TestClient] = []

    def build(keys: Callable[[object], dict[str, str]] | None = None, **overrides: object) -> Harness:
        """`keys(session)` makes the API keys for another site than the demo site."""
        options: dict = {"max_upload_bytes": 1024 * 1024} | overrides
        settings = Settings(data_dir=tmp_path / "data", database_url=database_url, **options)
        detector = ScriptedDetector()
        client = TestClient(create_app(settings, detector_factory=lambda: detector))
        client.__enter__()
        clients.append(client)
        runtime = client.app.state.runtime
        with runtime.db.session() as session:
            made = keys(session) if keys is not None else None
        if made is not None:
            return Harness(client, detector, settings, made)
        with runtime.db.session() as session:
            keys_made = {
                "admin": create_key(session, "admin", "admin"),
                "gateway": create_key(session, "gw", "gateway", camera_ids=["lanting-gate", "lanting-b3-stair"]),
                "lanting": create_key(session, "pm-lanting", "property", "pm-lanting"),
                "huayuan": create_key(session, "pm-huayuan", "property", "pm-huayuan"),
                "police": create_key(session, "ps", "police", "ps-chengguan"),
                "county": create_key(session, "county", "county"),
            }
        return Harness(client, detector, settings, keys_made)

    yield build
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def harness(make_harness: Callable[..., Harness]) -> Harness:
    return make_harness()
