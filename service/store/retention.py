"""Retention: what is deleted when, in batches, so that the disk and the database stay bounded.

Nothing is remembered between rounds: each batch selects what is due *now* from the database, deletes it and
commits, so a crash, a restart or a stop between two batches simply leaves the rest for the next round. The
DELETEs repeat the eligibility test in their own WHERE clause (and, on PostgreSQL, batches are chosen with
`FOR UPDATE SKIP LOCKED`), so two instances cleaning at once take different rows or find them gone: neither
fails, and each counts only the rows its own statements removed. Files are unlinked after their rows are
deleted and before the commit: a failed commit leaves rows that are still due (the next round finishes them),
never a file that nothing points to.

Never deleted: anything of a hazard that is open (ACTIVE or pending_review), supervised (挂牌督办) or under a
legal hold — its evidence, the frames it or its evidence points to, their pictures and detections — nor a
hazard row itself, nor each camera's newest frame and newest frame with a picture (status, zone editor).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy import Boolean, Integer, String, and_, column, delete, false, not_, or_, select, table, true, union
from sqlalchemy import update as sql_update
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from service.periodic import Periodic
from service.store import models as m
from service.store.campaign_models import CampaignReport
from service.store.db import Database, UTCDateTime, utcnow
from service.store.disk import delete_stored, remove_leftover_temp_files
from service.store.hazard_writer import HazardWriter
from service.store.lifecycle import CLOSED

log = logging.getLogger("clearway.retention")
ACTOR = "system:retention"
KINDS = ("frames", "detections", "evidence", "campaign_reports")
FILE_KINDS = ("frame_image", "evidence", "temp")

# hazard_events as the clean-up reads it: only the columns it needs, legal_hold (migration 0009) among them, as
# a plain table clause so that this module works whatever the ORM class declares, and aliases stay exact.
FRAME_REFS = ("first_frame_id", "latest_frame_id", "cleared_frame_id")
HAZARDS = table(
    "hazard_events",
    *(column(name, t) for name, t in (("id", Integer()), ("status", String()), ("closed_at", UTCDateTime()))),
    *(column(name, Boolean()) for name in ("supervised", "legal_hold")),
    *(column(ref, String()) for ref in FRAME_REFS),
)
F, D, E = m.FrameRecord.__table__, m.DetectionRecord.__table__, m.Evidence.__table__
R = CampaignReport.__table__
CLOSED_VALUES = [status.value for status in CLOSED]


@dataclass(frozen=True)
class RetentionPolicy:
    """How long each kind of data is kept, in days (None: forever), and how big one round may be."""

    frames_days: float | None = 14.0  # frames no hazard or evidence points to: row, detections, picture
    detections_days: float | None = 7.0  # detections of those frames, earlier (they are most of the database)
    closed_evidence_days: float | None = 365.0  # evidence of hazards closed this long ago (rows, files)
    campaign_reports_days: float | None = None  # made reports: official records, kept unless asked
    batch_size: int = 500  # rows per transaction: short locks for the pipeline's writes
    max_batches: int = 200  # per kind and round: a round ends in bounded time; the next one goes on
    pause_s: float = 0.05  # between batches, so the pipeline's writers get the (SQLite) write lock
    temp_files_older_than_s: float = 3600.0  # a `.tmp-*` older than this is a crash's leftover

    def __post_init__(self) -> None:
        for name in ("frames_days", "detections_days", "closed_evidence_days", "campaign_reports_days"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive (None keeps forever), not {value}")
        if self.batch_size < 1 or self.max_batches < 1:
            raise ValueError("batch_size and max_batches must be at least 1")


@dataclass
class Tally:
    """What a batch or a round removed (only what its own statements removed); `complete`: nothing due is left."""

    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    files: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FILE_KINDS, 0))
    bytes_freed: int = 0
    selected: int = 0  # rows a batch chose (fewer than the batch size: that kind is done)
    complete: bool = False

    def count(self, kind: str, n: int, files: bool = False) -> None:
        target = self.files if files else self.rows
        target[kind] = target.get(kind, 0) + n


class RetentionMetrics:
    """Counters on the app's registry (pass `Metrics.registry`): what was deleted, and how rounds ended."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = r = registry
        self.rows = Counter("clearway_retention_rows_deleted_total", "Rows deleted by retention", ["kind"], registry=r)
        self.files = Counter(
            "clearway_retention_files_deleted_total", "Files deleted by retention", ["kind"], registry=r
        )
        self.bytes = Counter("clearway_retention_bytes_freed_total", "Bytes of files deleted by retention", registry=r)
        self.runs = Counter(
            "clearway_retention_runs_total", "Retention rounds: complete, partial, failed", ["outcome"], registry=r
        )
        self.last_complete = Gauge(
            "clearway_retention_last_complete_timestamp_seconds", "When a round last left nothing due", registry=r
        )
        for kind in KINDS:
            self.rows.labels(kind=kind)
        for kind in FILE_KINDS:
            self.files.labels(kind=kind)

    def add(self, run: Tally, batch: Tally) -> None:
        """Counted once the batch is committed: a rolled-back batch is done again, and counted then."""
        for kind, n in batch.rows.items():
            self.rows.labels(kind=kind).inc(n)
            run.count(kind, n)
        for kind, n in batch.files.items():
            self.files.labels(kind=kind).inc(n)
            run.count(kind, n, files=True)
        self.bytes.inc(batch.bytes_freed)
        run.bytes_freed += batch.bytes_freed


# --- what may go ------------------------------------------------------------------------------------------
def _kept(h: object, cutoff: datetime) -> ColumnElement[bool]:
    """A hazard whose evidence stays: not closed long enough ago, supervised or held (NULL-safe: kept)."""
    c = h.c  # type: ignore[attr-defined]
    return or_(
        c.status.not_in(CLOSED_VALUES),
        c.closed_at.is_(None),
        c.closed_at >= cutoff,
        c.supervised == true(),
        c.legal_hold == true(),
    )


def _expired(h: object, cutoff: datetime) -> ColumnElement[bool]:
    c = h.c  # type: ignore[attr-defined]
    status_closed = and_(c.status.in_(CLOSED_VALUES), c.closed_at.is_not(None), c.closed_at < cutoff)
    return and_(status_closed, c.supervised == false(), c.legal_hold == false())


def _kept_frames(cutoff: datetime) -> Select:
    """Frames a kept hazard, or a kept hazard's evidence, points to."""
    k = HAZARDS.alias("kept")
    parts = [select(k.c[ref]).where(k.c[ref].is_not(None), _kept(k, cutoff)) for ref in FRAME_REFS]
    owned = select(E.c.frame_id).join(k, k.c.id == E.c.hazard_id).where(E.c.frame_id.is_not(None), _kept(k, cutoff))
    return union(*parts, owned)  # type: ignore[return-value]


def _unreferenced() -> ColumnElement[bool]:
    """No hazard row (foreign keys) and no evidence row points to the frame."""
    h = HAZARDS.alias("referring")
    tests = [not_(select(h.c.id).where(h.c[ref] == F.c.id).exists()) for ref in FRAME_REFS]
    return and_(*tests, not_(select(E.c.id).where(E.c.frame_id == F.c.id).exists()))


def _has_leftovers() -> ColumnElement[bool]:
    return or_(F.c.image_path.is_not(None), select(D.c.id).where(D.c.frame_id == F.c.id).exists())


def _newest_frames(session: Session) -> list[str]:
    """Each camera's newest frame (its last-seen time) and newest frame with a picture (the editor's view)."""
    kept: list[str] = []
    for camera_id in session.scalars(select(m.Camera.id)).all():
        for extra in (true(), F.c.image_path.is_not(None)):
            query = select(F.c.id).where(F.c.camera_id == camera_id, extra).order_by(F.c.captured_at.desc())
            found = session.scalar(query.limit(1))
            if found is not None:
                kept.append(found)
    return kept


# --- legal hold ---------------------------------------------------------------------------------------------
def set_legal_hold(
    session: Session, writer: HazardWriter, hazard_id: int, held: bool, actor: str, note: str = ""
) -> bool:
    """Put a hazard under legal hold (or lift it), with a history row; False when it already was so.
    LookupError when there is no such hazard."""
    changed = session.execute(
        sql_update(HAZARDS).where(HAZARDS.c.id == hazard_id, HAZARDS.c.legal_hold != held).values(legal_hold=held)
    ).rowcount
    hazard = session.get(m.HazardEvent, hazard_id)
    if hazard is None:
        raise LookupError(f"no hazard {hazard_id}")
    if changed:
        action = "legal_hold" if held else "legal_hold_released"
        writer.record(session, hazard, action, actor, note, params={"text": note})
    return bool(changed)


def is_held(session: Session, hazard_id: int) -> bool:
    return bool(session.scalar(select(HAZARDS.c.legal_hold).where(HAZARDS.c.id == hazard_id)))


# --- the clean-up -------------------------------------------------------------------------------------------
Step = Callable[[Session, int], Tally]  # one batch of at most n rows, in the given transaction


class RetentionJob:
    """The scheduled clean-up: `run_once(now)` is one round (tests drive it with their own clock); `start`
    runs a round at start-up and then every interval on a daemon thread, `close` stops it between batches."""

    def __init__(
        self,
        db: Database,
        writer: HazardWriter,
        policy: RetentionPolicy | None = None,
        registry: CollectorRegistry | None = None,
        clock: Callable[[], datetime] = utcnow,
        scheduled_reports: Callable[[], Collection[tuple[str, str]]] = tuple,
    ) -> None:
        self.db = db
        self.writer = writer  # evidence_expired history rows go through the one hazard writer
        self.root = writer.evidence.root
        self.policy = policy or RetentionPolicy()
        self.metrics = RetentionMetrics(registry or CollectorRegistry())
        self.clock = clock
        # (kind, period) the report schedule still makes: a deleted one would be made and sent again.
        self.scheduled_reports = scheduled_reports
        self._stop = threading.Event()  # set on close: a round ends between two batches
        self._periodic = Periodic("clearway-retention", self._round, self._stop)
        self._temp_swept = False

    def run_once(self, now: datetime | None = None) -> Tally:
        """One round: evidence of closed hazards first (it releases frames), then frames, detections, reports."""
        now = now or self.clock()
        run, p = Tally(), self.policy
        try:
            if not self._temp_swept:  # once per process: leftovers are made by crashes, i.e. before a start
                files, freed = remove_leftover_temp_files(self.root, p.temp_files_older_than_s)
                self.metrics.add(run, Tally(rows={}, files={"temp": files}, bytes_freed=freed))
                self._temp_swept = True
            with self.db.session() as session:
                newest = _newest_frames(session)
                cameras = list(session.scalars(select(m.Camera.id).order_by(m.Camera.id)))
            plan: list[tuple[float | None, Callable[[datetime], list[Step]]]] = [
                (p.closed_evidence_days, lambda c: [lambda s, n: self._evidence_batch(s, n, c, newest)]),
                (p.frames_days, lambda c: [lambda s, n, k=k: self._frames_batch(s, n, k, c, newest) for k in cameras]),
                (p.detections_days, lambda c: [lambda s, n, k=k: self._detections_batch(s, n, k, c) for k in cameras]),
                (p.campaign_reports_days, lambda c: [lambda s, n: self._reports_batch(s, n, c)]),
            ]
            done = []
            for days, steps in plan:
                if days is not None:
                    budget = [p.max_batches]  # shared by a kind's cameras
                    done += [self._drain(run, step, budget) for step in steps(now - timedelta(days=days))]
        except Exception:
            self.metrics.runs.labels(outcome="failed").inc()
            raise
        run.complete = all(done)
        self.metrics.runs.labels(outcome="complete" if run.complete else "partial").inc()
        if run.complete:
            self.metrics.last_complete.set(now.timestamp())
        return run

    def _drain(self, run: Tally, step: Step, budget: list[int]) -> bool:
        """Batches until one comes back short (True: done), the round's budget is spent or the job stops."""
        while budget[0] > 0:
            with self.db.session() as session:
                batch = step(session, self.policy.batch_size)
            self.metrics.add(run, batch)
            budget[0] -= 1 if batch.selected else 0  # a camera with nothing due costs no batch
            if batch.selected < self.policy.batch_size:
                return True
            progress = sum(batch.rows.values()) + sum(batch.files.values())
            if progress == 0 or self._stop.wait(self.policy.pause_s):
                return False  # another instance holds these rows, or we are stopping: the next round goes on
        return False

    @staticmethod
    def _lock(query: Select, of: object) -> Select:
        return query.with_for_update(skip_locked=True, of=of)  # PostgreSQL; SQLite serialises writers anyway

    def _evidence_batch(self, session: Session, limit: int, cutoff: datetime, newest: list[str]) -> Tally:
        """Hazards closed before `cutoff` (not supervised, not held): evidence rows and files, and the pictures
        and detections of the frames no kept hazard needs (the frame rows stay: the hazard row points to them)."""
        x = HAZARDS.alias("expired")
        released = and_(F.c.id.not_in(_kept_frames(cutoff)), F.c.id.not_in(newest), _has_leftovers())
        has_evidence = select(E.c.id).where(E.c.hazard_id == x.c.id).exists()
        has_frames = select(F.c.id).where(F.c.id.in_([x.c[ref] for ref in FRAME_REFS]), released).exists()
        query = select(x.c.id).where(_expired(x, cutoff), or_(has_evidence, has_frames)).order_by(x.c.id)
        ids = list(session.scalars(self._lock(query.limit(limit), x)))
        if not ids:
            return Tally()
        still = select(x.c.id).where(x.c.id.in_(ids), _expired(x, cutoff))  # tested again inside the write
        gone = session.execute(delete(E).where(E.c.hazard_id.in_(still)).returning(E.c.hazard_id, E.c.path)).all()
        ref_ids = union(*[select(x.c[ref]).where(x.c.id.in_(still), x.c[ref].is_not(None)) for ref in FRAME_REFS])
        frames = session.execute(self._lock(select(F.c.id, F.c.image_path).where(F.c.id.in_(ref_ids), released), F))
        pictures = dict(frames.tuples().all())
        batch = Tally(rows={"evidence": len(gone)}, files={}, selected=len(ids))
        if pictures:
            batch.count("detections", session.execute(delete(D).where(D.c.frame_id.in_(list(pictures)))).rowcount)
            update = sql_update(F).where(F.c.id.in_(list(pictures)), F.c.image_path.is_not(None))
            cleared = session.scalars(update.values(image_path=None).returning(F.c.id)).all()
            self._unlink_all(batch, "frame_image", [pictures[f] for f in cleared])
        self._unlink_all(batch, "evidence", [path for _hazard, path in gone])
        for hazard_id in sorted({hazard for hazard, _path in gone}):
            n = sum(1 for hazard, _path in gone if hazard == hazard_id)
            note = f"{n} evidence file(s) deleted: closed more than {self.policy.closed_evidence_days:g} days"
            params = {"files": n, "days": self.policy.closed_evidence_days}
            hazard = session.get(m.HazardEvent, hazard_id)
            self.writer.record(session, hazard, "evidence_expired", ACTOR, note, params=params)
        return batch

    def _frames_batch(self, session: Session, limit: int, camera: str, cutoff: datetime, newest: list[str]) -> Tally:
        """Frames of one camera received and captured before `cutoff` that nothing points to: row, detections,
        picture. Received too: a camera whose clock is behind does not lose a frame a hazard is about to use."""
        due = and_(F.c.camera_id == camera, F.c.captured_at < cutoff, F.c.received_at < cutoff)
        eligible = and_(due, F.c.id.not_in(newest), _unreferenced())
        query = select(F.c.id).where(eligible).order_by(F.c.captured_at).limit(limit)
        ids = list(session.scalars(self._lock(query, F)))
        if not ids:
            return Tally()
        still = select(F.c.id).where(F.c.id.in_(ids), eligible)
        detections = session.execute(delete(D).where(D.c.frame_id.in_(still))).rowcount
        gone = session.execute(delete(F).where(F.c.id.in_(ids), eligible).returning(F.c.image_path)).scalars().all()
        batch = Tally(rows={"frames": len(gone), "detections": detections}, files={}, selected=len(ids))
        self._unlink_all(batch, "frame_image", [path for path in gone if path])
        return batch

    def _detections_batch(self, session: Session, limit: int, camera: str, cutoff: datetime) -> Tally:
        """Detections of frames nothing points to, before their frames go (they are most of the database)."""
        eligible = and_(F.c.camera_id == camera, F.c.captured_at < cutoff, F.c.received_at < cutoff, _unreferenced())
        has_detections = select(D.c.id).where(D.c.frame_id == F.c.id).exists()
        query = select(F.c.id).where(eligible, has_detections).order_by(F.c.captured_at).limit(limit)
        ids = list(session.scalars(self._lock(query, F)))
        if not ids:
            return Tally()
        still = select(F.c.id).where(F.c.id.in_(ids), eligible)
        deleted = session.execute(delete(D).where(D.c.frame_id.in_(still))).rowcount
        return Tally(rows={"detections": deleted}, files={}, selected=len(ids))

    def _reports_batch(self, session: Session, limit: int, cutoff: datetime) -> Tally:
        """Campaign reports made before `cutoff` that the schedule no longer makes (their deliveries cascade)."""
        scheduled = [and_(R.c.kind == kind, R.c.period == period) for kind, period in self.scheduled_reports()]
        eligible = and_(R.c.made_at < cutoff, not_(or_(false(), *scheduled)))
        ids = list(session.scalars(self._lock(select(R.c.id).where(eligible).order_by(R.c.id).limit(limit), R)))
        deleted = session.execute(delete(R).where(R.c.id.in_(ids), eligible)).rowcount if ids else 0
        return Tally(rows={"campaign_reports": deleted}, files={}, selected=len(ids))

    def _unlink_all(self, batch: Tally, kind: str, paths: list[str | None]) -> None:
        for path in paths:
            size = delete_stored(self.root, path) if path else None
            if size is not None:
                batch.count(kind, 1, files=True)
                batch.bytes_freed += size

    # --- the schedule ---
    def start(self, interval_s: float) -> None:
        """A round now (what piled up while down, and a crash's temp files) and then every interval."""
        self._periodic.start(interval_s)

    def _round(self) -> None:
        run = self.run_once()
        log.info("retention: deleted %s, files %s, %d bytes", run.rows, run.files, run.bytes_freed)

    def close(self) -> None:
        self._periodic.close()
