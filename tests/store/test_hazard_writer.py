"""The hazard writer: rows, evidence and history, each history row to the sink once in its transaction — both DBs."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.config.settings import DEMO_SITE
from service.config.site import load_site
from service.hazards.routing import Assignment, Recipient
from service.store import models as m
from service.store.auth_models import AuditEntry
from service.store.db import Database
from service.store.evidence import EvidenceStore
from service.store.hazard_writer import Grade, HazardWriter, NewHazard
from service.store.lifecycle import IllegalTransitionError
from service.store.migrate import upgrade
from service.store.site_sync import sync_site
from tests.support import png_bytes

T = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
PNG, _ = png_bytes(1)
JPEG = b"\xff\xd8\xff\xe0 not really a jpeg, only its signature"
RECIPIENTS = Assignment(
    recipients=[
        Recipient("pm-lanting", "property_company", "duty: rectifies"),
        Recipient("ps-chengguan", "police_station", "duty: supervises"),
    ],
    responsible_agency_id="pm-lanting",
    acknowledge_due_at=T + timedelta(hours=2),
    rectify_due_at=T + timedelta(hours=24),
)
NOBODY = Assignment([], None, T + timedelta(hours=2), T + timedelta(hours=24))
NARROW = Grade(clear_width_m=2.5, severity="major", minimum_m=4.0)


class RecordingSink:
    """Notes each history row it hears and, like the outbox, writes a row in the caller's session."""

    def __init__(self) -> None:
        self.heard: list[tuple[int, str]] = []

    def history_added(self, session: Session, hazard: m.HazardEvent, entry: m.HazardHistory) -> None:
        assert entry.id is not None and entry in session and entry.hazard is hazard
        self.heard.append((entry.id, entry.action))
        session.add(AuditEntry(actor="sink", action=entry.action, object_type="history", object_id=str(entry.id)))


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database.engine)
    with database.session() as session:
        sync_site(session, load_site(DEMO_SITE))
        for index in range(1, 4):
            session.add(
                m.FrameRecord(
                    id=f"f{index}",
                    camera_id="lanting-gate",
                    captured_at=T + timedelta(minutes=index),
                    source="push",
                    sha256="0" * 64,
                    width=64,
                    height=48,
                )
            )
    yield database
    database.dispose()


@pytest.fixture
def evidence(tmp_path: Path) -> EvidenceStore:
    return EvidenceStore(tmp_path / "evidence")


def new_hazard(key: str = "lanting-gate:fire-lane-north:1") -> NewHazard:
    return NewHazard(
        engine_key=key,
        kind="vehicle_in_fire_lane",
        camera_id="lanting-gate",
        compound_id="lanting",
        zone_key="fire-lane-north",
        zone_type="fire_lane",
        category="vehicle",
        class_name="car",
        first_seen_at=T,
        opened_at=T + timedelta(minutes=5),
        confidence=0.8,
        box=[10, 20, 30, 40],
        first_frame_id="f1",
        latest_frame_id="f1",
    )


def open_one(db: Database, writer: HazardWriter, key: str = "lanting-gate:fire-lane-north:1", **kwargs) -> int:
    with db.session() as session:
        return writer.open(session, new_hazard(key), RECIPIENTS, "parked 300 s", **kwargs).id


def test_open_writes_the_row_recipients_evidence_and_opened_entry(db: Database, evidence: EvidenceStore) -> None:
    hazard_id = open_one(db, HazardWriter(evidence), pictures={"original": PNG, "annotated": JPEG}, grade=NARROW)
    with db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        assert (hazard.status, hazard.severity, hazard.clear_width_m) == ("open", "major", 2.5)
        assert (hazard.box, hazard.first_frame_id, hazard.last_seen_at) == (
            [10, 20, 30, 40],
            "f1",
            T + timedelta(minutes=5),
        )
        assert sorted((r.agency_id, r.agency_kind, r.reason) for r in hazard.recipients) == [
            ("pm-lanting", "property_company", "duty: rectifies"),
            ("ps-chengguan", "police_station", "duty: supervises"),
        ]
        assert (hazard.kind, hazard.source, hazard.responsible_agency_id) == (
            "vehicle_in_fire_lane",
            "camera",
            "pm-lanting",
        )
        assert (hazard.acknowledge_due_at, hazard.rectify_due_at) == (T + timedelta(hours=2), T + timedelta(hours=24))
        files = {e.kind: e for e in hazard.evidence}
        assert set(files) == {"original", "annotated"}
        for kind, data, media_type in (("original", PNG, "image/png"), ("annotated", JPEG, "image/jpeg")):
            row = files[kind]
            assert (row.media_type, row.size_bytes, row.frame_id) == (media_type, len(data), "f1")
            assert row.sha256 == hashlib.sha256(data).hexdigest()
            assert row.path.startswith(f"hazards/{hazard_id}/{kind}.")
            assert evidence.read_verified(row.path, row.sha256) == data
        [opened] = hazard.history
        assert (opened.action, opened.actor, opened.note, opened.from_status, opened.to_status) == (
            "opened",
            "system",
            "parked 300 s",
            None,
            "open",
        )


def test_every_history_row_reaches_the_sink_once_inside_its_transaction(db: Database, evidence: EvidenceStore) -> None:
    sink = RecordingSink()
    writer = HazardWriter(evidence, sink)
    first, second = open_one(db, writer), open_one(db, writer, "lanting-gate:fire-lane-north:2")
    with db.session() as session:
        hazard = session.get(m.HazardEvent, first)
        writer.transition(session, hazard, "notified", "delivery")
        writer.record(session, hazard, "note", "property:a", "towing booked")
        writer.seen_again(session, hazard, T + timedelta(minutes=6), [11, 20, 31, 40], 0.9, "f2", NARROW)
        writer.confirm(session, hazard, "police:b")
        writer.add_after_photo(session, hazard, JPEG, "property:a")
        writer.clear(session, hazard, "gone", frame_id="f3")
    with db.session() as session:
        writer.clear(session, session.get(m.HazardEvent, second), "gone")
    with db.session() as session:
        history = session.scalars(select(m.HazardHistory).order_by(m.HazardHistory.id)).all()
        marks = session.scalars(select(AuditEntry).where(AuditEntry.actor == "sink").order_by(AuditEntry.id)).all()
    assert [h.action for h in history if h.hazard_id == first] == [
        "opened",
        "notified",
        "note",
        "severity",
        "confirmed",
        "after_photo",
        "cleared",
    ]
    assert sink.heard == [(h.id, h.action) for h in history]  # once each, in order, nothing else
    assert [(int(a.object_id), a.action) for a in marks] == sink.heard  # committed with the change


def test_a_rolled_back_open_leaves_no_rows_and_no_referenced_files(db: Database, evidence: EvidenceStore) -> None:
    sink = RecordingSink()
    with pytest.raises(RuntimeError, match="crash"), db.session() as session:
        HazardWriter(evidence, sink).open(session, new_hazard(), RECIPIENTS, "n", pictures={"original": PNG})
        raise RuntimeError("crash before commit")
    assert [action for _, action in sink.heard] == ["opened"]  # heard, but inside the transaction that failed
    with db.session() as session:
        for table in (m.HazardEvent, m.HazardRecipient, m.HazardHistory, m.Evidence, AuditEntry):
            assert session.scalars(select(table)).all() == [], table.__name__


def test_transition_refuses_what_the_lifecycle_forbids(db: Database, evidence: EvidenceStore) -> None:
    writer = HazardWriter(evidence, RecordingSink())
    hazard_id = open_one(db, writer)
    with db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        for illegal in ("open", "unknown"):
            with pytest.raises(IllegalTransitionError):
                writer.transition(session, hazard, illegal, "test")
        writer.transition(session, hazard, "dismissed", "police:b", "false_positive")
        assert (hazard.dismiss_reason, hazard.closed_at is not None) == ("false_positive", True)
        for later in ("acknowledged", "cleared", "rectified"):
            with pytest.raises(IllegalTransitionError):
                writer.transition(session, hazard, later, "test")
        assert [h.action for h in hazard.history] == ["opened", "dismissed"]
        assert writer.sink.heard[-1][1] == "dismissed"


def test_a_narrower_lane_upgrades_an_unconfirmed_hazard_and_says_so(db: Database, evidence: EvidenceStore) -> None:
    writer = HazardWriter(evidence)
    hazard_id = open_one(db, writer, grade=Grade(4.5, "minor", 4.0))
    with db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        writer.seen_again(session, hazard, T + timedelta(minutes=6), [1, 2, 3, 4], 0.7, "f2", Grade(4.4, "minor", 4.0))
        writer.seen_again(session, hazard, T + timedelta(minutes=7), [1, 2, 3, 5], 0.6, "f3", NARROW)
    with db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        assert (hazard.severity, hazard.clear_width_m, hazard.latest_frame_id) == ("major", 2.5, "f3")
        assert (hazard.box, hazard.confidence, hazard.last_seen_at) == ([1, 2, 3, 5], 0.6, T + timedelta(minutes=7))
        assert [(h.action, h.note) for h in hazard.history] == [
            ("opened", "parked 300 s"),
            ("severity", "minor -> major: clear width 2.50 m (minimum 4.0 m)"),
        ]


def test_a_confirmed_grade_is_kept_when_the_lane_narrows(db: Database, evidence: EvidenceStore) -> None:
    writer = HazardWriter(evidence)
    hazard_id = open_one(db, writer, grade=Grade(4.5, "minor", 4.0))
    with db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        writer.confirm(session, hazard, "police:b", severity="minor", note="checked on site")
        writer.seen_again(session, hazard, T + timedelta(minutes=6), [1, 2, 3, 4], 0.7, "f2", NARROW)
    with db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        assert (hazard.confirmed, hazard.severity, hazard.clear_width_m) == (True, "minor", 2.5)
        assert [(h.action, h.note) for h in hazard.history] == [
            ("opened", "parked 300 s"),
            ("confirmed", "severity minor: checked on site"),
        ]


def test_clear_keeps_the_proof_frame_and_only_moves_active_hazards(db: Database, evidence: EvidenceStore) -> None:
    writer = HazardWriter(evidence)
    active, rectified = open_one(db, writer), open_one(db, writer, "lanting-gate:fire-lane-north:2")
    with db.session() as session:
        writer.transition(session, session.get(m.HazardEvent, rectified), "rectified", "property:a")
    with db.session() as session:
        for hazard_id in (active, rectified):
            writer.clear(session, session.get(m.HazardEvent, hazard_id), "zone clear", frame_id="f3")
    with db.session() as session:
        cleared, kept = session.get(m.HazardEvent, active), session.get(m.HazardEvent, rectified)
        assert (cleared.status, cleared.cleared_frame_id, cleared.closed_at is not None) == ("cleared", "f3", True)
        assert [(h.action, h.note) for h in cleared.history][-1] == ("cleared", "zone clear")
        assert (kept.status, kept.cleared_frame_id) == ("rectified", "f3")
        assert [h.action for h in kept.history] == ["opened", "rectified"]


def test_confirm_refuses_dismissed_and_cleared_hazards(db: Database, evidence: EvidenceStore) -> None:
    writer = HazardWriter(evidence)
    with db.session() as session:
        for index, status in enumerate(("dismissed", "cleared")):
            hazard = writer.open(session, new_hazard(f"k{index}"), NOBODY, "n")
            writer.transition(session, hazard, status, "test")
            with pytest.raises(IllegalTransitionError):
                writer.confirm(session, hazard, "police:b", severity="major")
            assert (hazard.confirmed, hazard.severity) == (False, "minor")


def test_after_photos_are_numbered_and_never_overwrite(db: Database, evidence: EvidenceStore) -> None:
    writer = HazardWriter(evidence)
    hazard_id = open_one(db, writer, pictures={"original": PNG})
    photos = [PNG, JPEG]
    kinds = []
    for photo in photos:  # one request per photo, as the web page and API send them
        with db.session() as session:
            kinds.append(writer.add_after_photo(session, session.get(m.HazardEvent, hazard_id), photo, "property:a"))
    assert kinds == ["after-1", "after-2"]
    with db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        after = [e for e in hazard.evidence if e.kind.startswith("after-")]
        assert [evidence.read_verified(e.path, e.sha256) for e in after] == photos
        assert len({e.path for e in hazard.evidence}) == 3
        assert [(h.action, h.note) for h in hazard.history][1:] == [
            ("after_photo", "after-1"),
            ("after_photo", "after-2"),
        ]


def test_two_after_photos_in_one_transaction_are_numbered_apart(db: Database, evidence: EvidenceStore) -> None:
    writer = HazardWriter(evidence)
    hazard_id = open_one(db, writer)
    with db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        kinds = [writer.add_after_photo(session, hazard, photo, "property:a") for photo in (PNG, JPEG)]
    assert kinds == ["after-1", "after-2"]


def test_a_writer_without_a_sink_still_writes_history(db: Database, evidence: EvidenceStore) -> None:
    writer = HazardWriter(evidence)
    hazard_id = open_one(db, writer)
    with db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        writer.transition(session, hazard, "acknowledged", "property:a")
        writer.clear(session, hazard, "gone")
    with db.session() as session:
        history = session.get(m.HazardEvent, hazard_id).history
        assert [(h.from_status, h.to_status) for h in history] == [
            (None, "open"),
            ("open", "acknowledged"),
            ("acknowledged", "cleared"),
        ]
        assert session.scalars(select(AuditEntry)).all() == []
