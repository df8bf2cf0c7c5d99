"""Storage: migrations match the ORM, lifecycle rules, evidence integrity — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import service.store.all_models  # noqa: F401
from service.store import models as m
from service.store.db import Base, Database
from service.store.evidence import EvidenceStore, EvidenceTamperedError
from service.store.hazard_writer import HazardWriter
from service.store.lifecycle import IllegalTransitionError
from service.store.migrate import current_revision, upgrade


def test_migrations_create_exactly_the_orm_schema(db: Database) -> None:
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert current_revision(db.engine) is not None
    upgrade(db.engine)  # idempotent


def _hazard(session, key: str = "k") -> m.HazardEvent:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    hazard = m.HazardEvent(
        engine_key=key,
        kind="vehicle_in_fire_lane",
        camera_id="lanting-gate",
        compound_id="lanting",
        zone_key="fire-lane-north",
        zone_type="fire_lane",
        category="vehicle",
        class_name="car",
        confidence=0.9,
        box=[0, 0, 1, 1],
        first_seen_at=now,
        opened_at=now,
        last_seen_at=now,
    )
    session.add(hazard)
    session.flush()
    return hazard


def test_lifecycle_allows_the_campaign_path_and_refuses_the_rest(db: Database, tmp_path: Path) -> None:
    transition = HazardWriter(EvidenceStore(tmp_path / "evidence")).transition
    with db.session() as session:
        hazard = _hazard(session)
        for status in ("notified", "acknowledged", "rectified"):
            transition(session, hazard, status, "test")
        assert hazard.closed_at is not None
        with pytest.raises(IllegalTransitionError):
            transition(session, hazard, "acknowledged", "test")
        other = _hazard(session, "k2")
        transition(session, other, "dismissed", "police:x", "false_positive")
        assert other.dismiss_reason == "false_positive"
        with pytest.raises(IllegalTransitionError):
            transition(session, other, "cleared", "system")
    with db.session() as session:
        history = session.get(m.HazardEvent, hazard.id).history
        assert [h.to_status for h in history] == ["notified", "acknowledged", "rectified"]
        assert history[0].at.tzinfo is not None


def test_evidence_is_verified_on_read(tmp_path: Path) -> None:
    store = EvidenceStore(tmp_path)
    stored = store.save("hazards/1/original.jpg", b"picture")
    assert store.read_verified(stored.relative_path, stored.sha256) == b"picture"
    (tmp_path / "hazards/1/original.jpg").write_bytes(b"edited")
    with pytest.raises(EvidenceTamperedError):
        store.read_verified(stored.relative_path, stored.sha256)
    with pytest.raises(ValueError):
        store.save("../escape.jpg", b"x")
