"""The one place that wires Frame -> vision -> hazards -> store (-> delivery, through the outbox).

`Pipeline.process` runs in a worker thread (never on the event loop). Per camera, frames are applied one
at a time under a lock: the static-object model learns the frame and adds unknown objects to the detector's
(service/static_scene.py), then the dwell state, frame row, detections, hazard changes, evidence
hashes and history are committed in one transaction: a crash loses at most the frame in flight, never half
a hazard. Fire lanes of calibrated cameras get their clear width measured on every hazard change.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.config.site import Camera, Site
from service.hazards.engine import CameraState, HazardChange, HazardEngine, Observation, Tuning
from service.hazards.lane_width import lane_clear_width
from service.hazards.routing import recipients_for
from service.inference import InferencePool
from service.metrics import Metrics
from service.static_scene import StaticScenes
from service.store import models as m
from service.store.db import Database
from service.store.evidence import EvidenceStore
from service.store.hazard_evidence import is_png, save_hazard_evidence
from service.store.lifecycle import ACTIVE, record, transition
from service.store.site_sync import sync_site
from service.vision.annotate import encode_jpeg
from service.vision.clear_width import ClearWidthResult, severity_for
from service.vision.types import Detections, Frame

log = logging.getLogger("clearway.pipeline")
INFERENCE_TIMEOUT_S = 120.0


@dataclass
class FrameResult:
    frame_id: str
    camera_id: str
    captured_at: datetime
    late: bool = False
    duplicate: bool = False
    detections: list[dict] = field(default_factory=list)
    hazards: list[dict] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "frame_id": self.frame_id,
            "camera_id": self.camera_id,
            "captured_at": self.captured_at.isoformat(),
            "late": self.late,
            "duplicate": self.duplicate,
            "detections": self.detections,
            "hazards": self.hazards,
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


class Pipeline:
    def __init__(
        self,
        site: Site,
        db: Database,
        evidence: EvidenceStore,
        pool: InferencePool,
        metrics: Metrics,
        tuning: Tuning = Tuning(),
    ) -> None:
        self.db = db
        self.evidence = evidence
        self.pool = pool
        self.metrics = metrics
        self.tuning = tuning
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        self.site = site
        self.engines: dict[str, HazardEngine] = {}
        self.static = StaticScenes(db)
        self.site_listeners: list[Callable[[Site], None]] = []  # e.g. the RTSP supervisor
        self.apply_site(site)

    # --- configuration -------------------------------------------------------------------------------
    def apply_site(self, site: Site) -> None:
        """Take a new site config without a restart: changed cameras get a new engine, state is kept."""
        with self.db.session() as session:
            sync_site(session, site)
        engines = {}
        for camera in site.cameras:
            old = self.engines.get(camera.id)
            engines[camera.id] = old if old and old.camera == camera else HazardEngine(camera, self.tuning)
        with self._all_camera_locks(site):
            self.static.apply_site(site)
        self.site, self.engines = site, engines
        for listener in self.site_listeners:
            listener(site)

    def camera(self, camera_id: str) -> Camera | None:
        return self.site.camera(camera_id)

    @contextmanager
    def _camera_lock(self, camera_id: str) -> Iterator[None]:
        with self._locks_guard:
            lock = self._locks.setdefault(camera_id, threading.Lock())
        with lock:
            yield

    @contextmanager
    def _all_camera_locks(self, site: Site) -> Iterator[None]:
        """Every camera's lock, in a fixed order (no deadlock): no frame is mid-way while models are swapped."""
        with ExitStack() as stack:
            for camera_id in sorted({c.id for c in site.cameras} | set(self.engines)):
                stack.enter_context(self._camera_lock(camera_id))
            yield

    # --- operator actions on the static-object model ---------------------------------------------------
    def clear_reference(self, camera_id: str) -> bool:
        """The operator says this is the clear reference: the camera's latest sample becomes the empty scene."""
        with self._camera_lock(camera_id):
            return self.static.clear_reference(camera_id)

    def confirm_zone_clear(self, camera_id: str, zone_id: str) -> bool:
        """The zone was confirmed clear: what it shows now is learned as empty."""
        with self._camera_lock(camera_id):
            return self.static.confirm_zone_clear(camera_id, zone_id)

    def close(self) -> None:
        """Keep what the static models learned since their last save."""
        with self._all_camera_locks(self.site):
            self.static.save_all()

    # --- processing ----------------------------------------------------------------------------------
    def process(self, frame: Frame) -> FrameResult:
        """Detect, apply dwell logic and store one validated frame. Raises QueueFullError when saturated."""
        encoded = frame.encoded if frame.encoded is not None else encode_jpeg(frame.image)
        sha = hashlib.sha256(encoded).hexdigest()
        timings: dict[str, float] = {}
        duplicate = self._find_duplicate(frame.camera_id, sha)
        if duplicate is not None:
            self.metrics.reject("duplicate")
            return FrameResult(
                duplicate.id, frame.camera_id, duplicate.captured_at, late=duplicate.late, duplicate=True
            )

        self.metrics.queue_depth.set(self.pool.depth)
        started = time.perf_counter()
        detections, inference_ms = self.pool.submit(frame.image).result(timeout=INFERENCE_TIMEOUT_S)
        timings["inference"] = inference_ms
        timings["queue_wait"] = (time.perf_counter() - started) * 1000 - inference_ms
        self.metrics.inference_seconds.observe(inference_ms / 1000)

        frame_id = uuid.uuid4().hex
        with self._camera_lock(frame.camera_id):
            with self._timed(timings, "static_objects"):
                detections = self.static.step(frame, detections)
            with self._timed(timings, "database"), self.db.session() as session:
                hazards, observation = self._apply(
                    session, frame, frame_id, sha, encoded, detections, inference_ms, timings
                )
        self.metrics.frames_accepted.labels(camera=frame.camera_id, source=frame.source).inc()
        for name, value in timings.items():
            self.metrics.stage_seconds.labels(stage=name).observe(value / 1000)
        records = observation.detections.to_records()
        for rec, zones in zip(records, observation.zones_of, strict=True):
            rec["zones"] = zones
        return FrameResult(
            frame_id,
            frame.camera_id,
            frame.captured_at,
            late=observation.late,
            detections=records,
            hazards=hazards,
            timings_ms=timings,
        )

    def _apply(
        self,
        session: Session,
        frame: Frame,
        frame_id: str,
        sha: str,
        encoded: bytes,
        detections: Detections,
        inference_ms: float,
        timings: dict[str, float],
    ) -> tuple[list[dict], Observation]:
        """Dwell, frame row, detections, hazard changes and state: all in the caller's transaction."""
        state_row = session.get(m.CameraState, frame.camera_id)
        state = CameraState.from_json(state_row.state if state_row else None)
        with self._timed(timings, "zones_dwell"):
            observation = self.engines[frame.camera_id].observe(
                state, frame.captured_at, detections, frame_id, frame.width, frame.height
            )
        record_row = m.FrameRecord(
            id=frame_id,
            camera_id=frame.camera_id,
            captured_at=frame.captured_at,
            source=frame.source,
            sha256=sha,
            width=frame.width,
            height=frame.height,
            late=observation.late,
            inference_ms=inference_ms,
        )
        with self._timed(timings, "evidence"):
            if observation.any_in_zone or any(c.kind in ("opened", "cleared") for c in observation.changes):
                stored = self.evidence.save(self._frame_path(frame, frame_id), encoded)
                record_row.image_path = stored.relative_path
        session.add(record_row)
        session.flush()
        self._store_detections(session, frame_id, observation.detections, observation.zones_of)
        widths = _WidthCache(self.site.camera(frame.camera_id), observation, (frame.width, frame.height))
        hazards = [
            self._apply_change(session, change, frame, frame_id, encoded, timings, widths)
            for change in observation.changes
        ]
        if not observation.late:
            if state_row is None:
                session.add(m.CameraState(camera_id=frame.camera_id, state=state.to_json()))
            else:
                state_row.state = state.to_json()
        self.static.save_if_due(session, frame.camera_id)
        return hazards, observation

    @contextmanager
    def _timed(self, timings: dict[str, float], name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            timings[name] = timings.get(name, 0.0) + (time.perf_counter() - started) * 1000

    def _find_duplicate(self, camera_id: str, sha: str) -> m.FrameRecord | None:
        with self.db.session() as session:
            return session.scalars(
                select(m.FrameRecord).where(m.FrameRecord.camera_id == camera_id, m.FrameRecord.sha256 == sha).limit(1)
            ).first()

    @staticmethod
    def _frame_path(frame: Frame, frame_id: str) -> str:
        suffix = "png" if frame.encoded is not None and is_png(frame.encoded) else "jpg"
        return f"frames/{frame.camera_id}/{frame.captured_at:%Y-%m-%d}/{frame_id}.{suffix}"

    @staticmethod
    def _store_detections(session: Session, frame_id: str, detections: Detections, zones_of: list[list[str]]) -> None:
        for i in range(len(detections)):
            x1, y1, x2, y2 = (float(v) for v in detections.xyxy[i])
            session.add(
                m.DetectionRecord(
                    frame_id=frame_id,
                    class_name=str(detections.class_name[i]),
                    category=str(detections.category[i]),
                    confidence=float(detections.confidence[i]),
                    x1=x1,
                    y1=y1,
                    x2=x2,
                    y2=y2,
                    origin=str(detections.origin[i]),
                    track_id=int(detections.track_id[i]),
                    zones=zones_of[i],
                )
            )

    def _apply_change(
        self,
        session: Session,
        change: HazardChange,
        frame: Frame,
        frame_id: str,
        encoded: bytes,
        timings: dict[str, float],
        widths: _WidthCache,
    ) -> dict:
        self.metrics.hazard_changes.labels(kind=change.kind).inc()
        camera = self.site.camera(change.camera_id)
        assert camera is not None
        zone = next(z for z in camera.zones if z.id == change.zone_id)
        hazard = session.scalars(select(m.HazardEvent).where(m.HazardEvent.engine_key == change.key)).first()
        width = widths.get(zone.id) if change.kind in ("opened", "updated") else None
        if change.kind == "opened" and hazard is None:
            hazard = m.HazardEvent(
                engine_key=change.key,
                camera_id=camera.id,
                compound_id=camera.compound,
                zone_key=zone.id,
                zone_type=zone.type.value,
                category=change.category,
                class_name=change.class_name,
                confidence=change.confidence,
                box=list(change.box),
                first_seen_at=change.first_seen_at,
                opened_at=change.at,
                last_seen_at=change.at,
                first_frame_id=change.first_frame_id,
                latest_frame_id=frame_id,
            )
            self._grade(hazard, width, camera.min_clear_width_m)
            session.add(hazard)
            session.flush()
            with self._timed(timings, "evidence"):
                save_hazard_evidence(session, self.evidence, hazard, camera, frame, encoded, change, width)
            for recipient in recipients_for(self.site, camera.compound, zone.type.value, change.category):
                session.add(
                    m.HazardRecipient(
                        hazard_id=hazard.id,
                        agency_id=recipient.agency_id,
                        agency_kind=recipient.agency_kind,
                        reason=recipient.reason,
                    )
                )
            session.flush()
            dwell = (change.at - change.first_seen_at).total_seconds()
            note = f"{change.class_name.replace('_', ' ')} in {zone.id} for {dwell:.0f} s"
            if width is not None:
                note += f"; clear width {width.width_m:.2f} m (minimum {camera.min_clear_width_m:.1f} m)"
            record(session, hazard, "opened", "system", note, None, "open")
        elif hazard is not None and change.kind == "updated":
            hazard.last_seen_at = change.at
            hazard.box = list(change.box)
            hazard.confidence = change.confidence
            hazard.latest_frame_id = frame_id
            before = hazard.severity
            self._grade(hazard, width, camera.min_clear_width_m)
            if hazard.severity != before:
                assert width is not None
                note = f"clear width {width.width_m:.2f} m (minimum {camera.min_clear_width_m:.1f} m)"
                record(session, hazard, "severity", "system", f"{before} -> {hazard.severity}: {note}")
        elif hazard is not None and change.kind == "cleared":
            hazard.cleared_frame_id = frame_id  # the frame that shows the zone clear ("verified by camera")
            if hazard.status in ACTIVE:  # a hazard already rectified keeps its status, gains the proof
                transition(session, hazard, "cleared", "system", change.reason)
        if hazard is None:
            return {"change": change.kind, "key": change.key, "hazard_id": None}
        return {
            "change": change.kind,
            "hazard_id": hazard.id,
            "status": hazard.status,
            "zone": zone.id,
            "zone_type": zone.type.value,
            "category": change.category,
            "severity": hazard.severity,
            "clear_width_m": hazard.clear_width_m,
        }

    @staticmethod
    def _grade(hazard: m.HazardEvent, width: ClearWidthResult | None, minimum_m: float) -> None:
        """Clear width below the minimum makes the hazard major. A reviewer's confirmed grade is kept."""
        if width is None:
            return
        hazard.clear_width_m = round(width.width_m, 3)
        if not hazard.confirmed:
            hazard.severity = severity_for(width.width_m, minimum_m)

    def open_hazard_count(self) -> int:
        with self.db.session() as session:
            return session.scalar(select(func.count()).where(m.HazardEvent.status.in_(ACTIVE))) or 0


class _WidthCache:
    """Clear width per fire lane, measured at most once per frame (several hazards share one lane)."""

    def __init__(self, camera: Camera | None, observation: Observation, size: tuple[int, int]) -> None:
        self.camera, self.observation, self.size = camera, observation, size
        self._widths: dict[str, ClearWidthResult | None] = {}

    def get(self, zone_id: str) -> ClearWidthResult | None:
        if zone_id not in self._widths:
            zone = next((z for z in self.camera.zones if z.id == zone_id), None) if self.camera else None
            self._widths[zone_id] = (
                None
                if zone is None or self.camera is None
                else lane_clear_width(
                    self.camera, zone, self.observation.detections, self.observation.zones_of, self.size
                )
            )
        return self._widths[zone_id]
