"""Retention: what goes when, what never goes, batches that resume, two instances at once — on both databases.

The data is built through the store (frame rows and pictures as the pipeline writes them, hazards through the
hazard writer); the clock is the `now` handed to each round, so nothing sleeps.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import func, select

from service.config.settings import DEMO_SITE
from service.config.site import load_site
from service.hazards.routing import Assignment
from service.store import models as m
from service.store.campaign_models import CampaignReport
from service.store.db import Database, utcnow
from service.store.evidence import EvidenceStore
from service.store.frames import add_detections
from service.store.hazard_writer import HazardWriter, NewHazard
from service.store.migrate import upgrade
from service.store.retention import RetentionJob, RetentionPolicy, Tally, is_held, set_legal_hold
from service.store.site_sync import sync_site
from tests.support import detections as make_detections

T = utcnow().replace(microsecond=0)  # when the data was made; rounds run at T + some days
JPEG = b"\xff\xd8\xff\xe0" + b"picture" * 20
NOBODY = Assignment([], None, T + timedelta(hours=2), T + timedelta(hours=24))
FAST = RetentionPolicy(pause_s=0.0)
FRAME = {"source": "push", "sha256": "0" * 64, "width": 64, "height": 48}
HAZARD = {
    **{"kind": "vehicle_in_fire_lane", "camera_id": "lanting-gate", "compound_id": "lanting"},
    **{"zone_key": "fire-lane-north", "zone_type": "fire_lane", "category": "vehicle", "class_name": "car"},
    **{"first_seen_at": T, "opened_at": T, "box": [1, 2, 30, 40]},
}
REPORT = {
    **{"starts_at": T, "ends_at": T, "made_at": T, "made_by": "system:reports", "language": "zh", "figures": {}},
    **{"pdf": b"%PDF", "xlsx": b"PK", "pdf_sha256": "0" * 64, "xlsx_sha256": "0" * 64},
}


class Bed:
    """A migrated database with the demo site, an evidence store and the hazard writer (no delivery)."""

    def __init__(self, url: str, root: Path) -> None:
        self.db = Database(url)
        upgrade(self.db.engine)
        with self.db.session() as session:
            sync_site(session, load_site(DEMO_SITE))
        self.evidence = EvidenceStore(root / "evidence")
        self.writer = HazardWriter(self.evidence)

    def job(self, policy: RetentionPolicy = FAST, **options: object) -> RetentionJob:
        return RetentionJob(self.db, self.writer, policy, registry=CollectorRegistry(), **options)  # type: ignore[arg-type]

    def frame(self, at: datetime, camera: str = "lanting-gate", picture: bool = True, detections: int = 2) -> str:
        """A frame as the pipeline stores it: row, detections, and the picture when one was kept."""
        frame_id = uuid.uuid4().hex
        path = f"frames/{camera}/{at:%Y-%m-%d}/{frame_id}.jpg"
        image = self.evidence.save(path, JPEG).relative_path if picture else None
        with self.db.session() as session:
            times = {"captured_at": at, "received_at": at}
            session.add(m.FrameRecord(id=frame_id, camera_id=camera, image_path=image, **times, **FRAME))
            session.flush()
            add_detections(session, frame_id, make_detections(*[("car", "vehicle", (1, 2, 30, 40))] * detections))
        return frame_id

    def hazard(
        self, frame_id: str, status: str = "open", closed_days_ago: float | None = None, supervised: bool = False
    ) -> int:
        """Opened on `frame_id` (first, latest and evidence), with two evidence files; closed if asked."""
        opening = "pending_review" if status == "pending_review" else "open"
        frames = {"first_frame_id": frame_id, "latest_frame_id": frame_id}
        new = NewHazard(engine_key=uuid.uuid4().hex, status=opening, **frames, **HAZARD)  # type: ignore[arg-type]
        with self.db.session() as session:
            hazard = self.writer.open(session, new, NOBODY, "car", {"original": JPEG, "thumbnail": JPEG})
            if status not in ("open", "pending_review"):
                self.writer.transition(session, hazard, status, "test")
            if closed_days_ago is not None:
                hazard.closed_at = T - timedelta(days=closed_days_ago)
            hazard.supervised = supervised
            return hazard.id

    def count(self, model: type, *where: object) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    def stored(self, relative: str) -> bool:
        return self.evidence.exists(relative)

    def actions(self, hazard_id: int) -> list[str]:
        with self.db.session() as session:
            query = select(m.HazardHistory.action).where(m.HazardHistory.hazard_id == hazard_id)
            return list(session.scalars(query.order_by(m.HazardHistory.id)))


@pytest.fixture
def bed(database_url: str, tmp_path: Path) -> Iterator[Bed]:
    test_bed = Bed(database_url, tmp_path)
    yield test_bed
    test_bed.db.dispose()


def _picture(bed: Bed, frame_id: str) -> str | None:
    with bed.db.session() as session:
        return session.get(m.FrameRecord, frame_id).image_path


def test_old_frames_without_hazards_go_with_their_pictures_and_detections(bed: Bed) -> None:
    old = [bed.frame(T - timedelta(days=20, minutes=n)) for n in range(3)]
    blank = bed.frame(T - timedelta(days=20, minutes=9), picture=False)
    recent = bed.frame(T - timedelta(days=2))
    newest_elsewhere = bed.frame(T - timedelta(days=30), camera="huayuan-lane")  # that camera's last frame
    paths = {f: _picture(bed, f) for f in old}
    run = bed.job().run_once(T)
    assert run.complete and run.rows["frames"] == 4
    assert bed.count(m.FrameRecord) == 2
    assert bed.count(m.DetectionRecord) == 2  # the other camera's last frame is kept, its detections are not
    assert not any(bed.stored(p) for p in paths.values()) and run.files["frame_image"] == 3
    assert run.bytes_freed == 3 * len(JPEG)
    with bed.db.session() as session:
        assert {f.id for f in session.scalars(select(m.FrameRecord))} == {recent, newest_elsewhere}
    assert bed.count(m.FrameRecord, m.FrameRecord.id == blank) == 0


def test_detections_go_before_their_frames(bed: Bed) -> None:
    frame = bed.frame(T - timedelta(days=10))
    bed.frame(T)  # the camera's newest
    run = bed.job().run_once(T)
    assert run.rows["detections"] == 2 and run.rows["frames"] == 0
    assert bed.count(m.FrameRecord, m.FrameRecord.id == frame) == 1 and _picture(bed, frame) is not None


def test_what_open_supervised_or_held_hazards_keep_is_never_deleted(bed: Bed) -> None:
    """A year and more after: only the closed, unsupervised, unheld hazard loses its evidence and pictures."""
    frames = {name: bed.frame(T - timedelta(days=400)) for name in ("open", "review", "supervised", "held", "old")}
    bed.frame(T)  # each camera's newest frame is kept anyway: not one of these
    hazards = {
        "open": bed.hazard(frames["open"], "acknowledged"),
        "review": bed.hazard(frames["review"], "pending_review"),
        "supervised": bed.hazard(frames["supervised"], "rectified", closed_days_ago=400, supervised=True),
        "held": bed.hazard(frames["held"], "dismissed", closed_days_ago=400),
        "old": bed.hazard(frames["old"], "rectified", closed_days_ago=400),
        "recent": bed.hazard(frames["old"], "cleared", closed_days_ago=30),  # shares the old one's frame
    }
    with bed.db.session() as session:
        assert set_legal_hold(session, bed.writer, hazards["held"], True, "admin:legal", "court case 2027-17")
    run = bed.job().run_once(T + timedelta(days=10))
    assert run.complete and run.rows["evidence"] == 2 and run.files["evidence"] == 2  # "old"'s own files
    assert run.files["frame_image"] == 0  # its frame is also "recent"'s, still kept
    assert run.rows["frames"] == 0 and bed.count(m.FrameRecord) == 6

    with bed.db.session() as session:  # the recent one's evidence ages past the policy too
        session.get(m.HazardEvent, hazards["recent"]).closed_at = T - timedelta(days=400)
    run = bed.job().run_once(T + timedelta(days=10))
    assert run.complete and run.rows["evidence"] == 2 and run.files["evidence"] == 2
    assert run.files["frame_image"] == 1 and run.rows["detections"] == 2 and run.rows["frames"] == 0
    for name in ("open", "review", "supervised", "held"):
        assert bed.count(m.Evidence, m.Evidence.hazard_id == hazards[name]) == 2, name
        assert _picture(bed, frames[name]) is not None and bed.stored(_picture(bed, frames[name]) or ""), name
        assert bed.count(m.DetectionRecord, m.DetectionRecord.frame_id == frames[name]) == 2, name
    assert bed.count(m.Evidence, m.Evidence.hazard_id.in_([hazards["old"], hazards["recent"]])) == 0
    assert not list((bed.evidence.root / "hazards" / str(hazards["old"])).iterdir())
    assert _picture(bed, frames["old"]) is None and bed.count(m.FrameRecord) == 6  # rows: the hazards point there
    assert "evidence_expired" in bed.actions(hazards["old"])
    assert bed.job().run_once(T + timedelta(days=10)).rows == Tally().rows  # nothing left to do


def test_legal_hold_is_recorded_and_can_be_lifted(bed: Bed) -> None:
    hazard = bed.hazard(bed.frame(T), "rectified", closed_days_ago=400)
    with bed.db.session() as session:
        assert set_legal_hold(session, bed.writer, hazard, True, "admin:legal", "court case")
        assert not set_legal_hold(session, bed.writer, hazard, True, "admin:legal")  # already held: no new row
        assert is_held(session, hazard)
        with pytest.raises(LookupError):
            set_legal_hold(session, bed.writer, 999_999, True, "admin:legal")
    assert bed.job().run_once(T).rows["evidence"] == 0
    with bed.db.session() as session:
        assert set_legal_hold(session, bed.writer, hazard, False, "admin:legal", "case closed")
    assert bed.job().run_once(T).rows["evidence"] == 2
    assert bed.actions(hazard)[-3:] == ["legal_hold", "legal_hold_released", "evidence_expired"]


def test_a_batch_limit_makes_the_clean_up_resume(bed: Bed) -> None:
    for n in range(7):
        bed.frame(T - timedelta(days=20, minutes=n))  # the newest of these stays: the camera's last frame
    job = bed.job(RetentionPolicy(batch_size=2, max_batches=2, pause_s=0.0, detections_days=None))
    first = job.run_once(T)
    assert (first.rows["frames"], first.complete) == (4, False)
    second = job.run_once(T)
    assert (second.rows["frames"], second.complete) == (2, True)
    third = job.run_once(T)
    assert (third.rows["frames"], third.complete) == (0, True)
    assert bed.count(m.FrameRecord) == 1
    sample = job.metrics.registry.get_sample_value
    assert sample("clearway_retention_rows_deleted_total", {"kind": "frames"}) == 6  # each row counted once
    assert sample("clearway_retention_runs_total", {"outcome": "partial"}) == 1
    assert sample("clearway_retention_runs_total", {"outcome": "complete"}) == 2


def test_two_instances_at_once_neither_fails_nor_counts_twice(bed: Bed, database_url: str) -> None:
    cameras = ("lanting-gate", "huayuan-lane")
    old = [bed.frame(T - timedelta(days=20, minutes=n), camera=cameras[n % 2]) for n in range(40)]
    hazards = [bed.hazard(bed.frame(T - timedelta(days=400)), "dismissed", closed_days_ago=400) for _ in range(6)]
    policy = RetentionPolicy(batch_size=3, pause_s=0.0)
    other = Database(database_url)
    jobs = [bed.job(policy), RetentionJob(other, HazardWriter(bed.evidence), policy, registry=CollectorRegistry())]
    start, errors, runs = threading.Barrier(2), [], []

    def clean(job: RetentionJob) -> None:
        start.wait()
        try:
            runs.append(job.run_once(T + timedelta(days=1)))
        except Exception as exc:  # the assertion below shows it
            errors.append(exc)

    threads = [threading.Thread(target=clean, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    other.dispose()
    assert errors == []
    total = {kind: sum(run.rows[kind] for run in runs) for kind in ("frames", "evidence")}
    assert total == {"frames": len(old) - 2, "evidence": 2 * len(hazards)}  # less each camera's newest
    assert sum(run.files["evidence"] for run in runs) == 2 * len(hazards)
    assert bed.count(m.FrameRecord) == 2 + len(hazards) and bed.count(m.Evidence) == 0
    for hazard in hazards:
        assert bed.actions(hazard).count("evidence_expired") == 1
    assert bed.job(policy).run_once(T + timedelta(days=1)).rows == Tally().rows


def test_campaign_reports_are_kept_unless_asked_and_never_while_scheduled(bed: Bed) -> None:
    with bed.db.session() as session:
        for period in ("2025-W01", "2025-W02"):
            session.add(CampaignReport(kind="weekly", period=period, unit_id="county", **REPORT))
    later = T + timedelta(days=4000)
    assert bed.job().run_once(later).rows["campaign_reports"] == 0
    policy = RetentionPolicy(campaign_reports_days=1000, pause_s=0.0)
    run = bed.job(policy, scheduled_reports=lambda: [("weekly", "2025-W02")]).run_once(later)
    assert run.rows["campaign_reports"] == 1
    with bed.db.session() as session:
        assert session.scalars(select(CampaignReport.period)).all() == ["2025-W02"]


def test_leftover_temp_files_go_at_start_fresh_ones_stay(bed: Bed) -> None:
    folder = bed.evidence.root / "hazards" / "7"
    folder.mkdir(parents=True)
    stale, fresh = folder / ".tmp-crashed", folder / ".tmp-being-written"
    for path in (stale, fresh):
        path.write_bytes(b"half a picture")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    job = bed.job()
    assert job.run_once(T).files["temp"] == 1
    assert not stale.exists() and fresh.exists()
    os.utime(fresh, (time.time() - 7200, time.time() - 7200))
    assert job.run_once(T).files["temp"] == 0  # once per process: crashes happen before a start


def test_the_schedule_runs_a_round_at_start_and_stops(bed: Bed) -> None:
    bed.frame(T - timedelta(days=30))
    bed.frame(T)
    job = bed.job(clock=lambda: T)
    job.start(interval_s=3600)
    job.close()  # waits for the round in progress, interrupts the interval
    sample = job.metrics.registry.get_sample_value
    assert sample("clearway_retention_runs_total", {"outcome": "complete"}) == 1
    assert sample("clearway_retention_rows_deleted_total", {"kind": "frames"}) == 1 and bed.count(m.FrameRecord) == 1
    assert sample("clearway_retention_last_complete_timestamp_seconds") == T.timestamp()


def test_the_policy_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        RetentionPolicy(frames_days=0)
    with pytest.raises(ValueError):
        RetentionPolicy(batch_size=0)
