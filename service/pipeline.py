"""The one place that wires Frame -> vision -> scene -> hazards -> hazard writer (-> outbox -> deliveries).

`Pipeline.process` runs in a worker thread (never on the event loop):

1. the inference pool finds objects (`vision/pool.py`);
2. under the camera's lock, the scene model adds unknown objects left in the zones (`scene/scenes.py`);
3. the camera's dwell engine turns detections over capture time into `HazardChange`s (`hazards/engine.py`);
4. in one transaction: the frame row, its detections, and each change: `camera_hazards.py` decides what a
   camera hazard carries (grade, evidence pictures, recipients) and the `HazardWriter` (`store/hazard_writer.py`)
   writes it, handing its history to the delivery outbox in that same transaction; then the engine state.
   A crash loses at most the frame in flight, never half a hazard, never an unsent message.

Fire lanes of calibrated cameras get their clear width measured on every change (`vision/clear_width.py`).
Every camera's latest view is kept apart from evidence, at most every few minutes (`store/latest_frames.py`),
so the zone editor shows what a camera sees even when none of its frames had an object in a zone.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable

import numpy as np
from sqlalchemy.orm import Session

from service.camera_hazards import CameraHazards
from service.camera_locks import CameraLocks
from service.config.site import Site
from service.config.site_holder import SiteHolder
from service.frame_flow import FrameResult, FrameWork
from service.hazards.engine import CameraState, ChangeKind, HazardEngine, Observation, Tuning
from service.hazards.fixtures import FIXTURE, FixtureMark
from service.metrics import Metrics
from service.scene.scenes import StaticScenes
from service.store import models as m
from service.store.db import Database
from service.store.evidence import suffix_of
from service.store.fixtures import live_fixtures
from service.store.frames import add_detections, find_duplicate
from service.store.hazard_writer import HazardWriter
from service.store.latest_frames import LatestFrames, is_jpeg
from service.vision.annotate import encode_jpeg
from service.vision.clear_width import LaneWidths
from service.vision.pool import InferencePool, QueueFullError
from service.vision.types import Detections, Frame

Guard = Callable[[Session], None]
INFERENCE_TIMEOUT_S = 120.0
SECOND_LOOK_TIMEOUT_S = 10.0  # a hazard opens without it rather than hold the camera's frames


class Pipeline:
    def __init__(
        self,
        sites: SiteHolder,
        db: Database,
        writer: HazardWriter,
        pool: InferencePool,
        scenes: StaticScenes,
        locks: CameraLocks,
        metrics: Metrics,
        tuning: Tuning = Tuning(),
        latest: LatestFrames | None = None,
        second_look_min: float = 0.0,
    ) -> None:
        self.sites, self.db, self.writer, self.pool = sites, db, writer, pool
        self.scenes, self.locks, self.metrics, self.tuning = scenes, locks, metrics, tuning
        self.latest = latest  # each camera's latest view (None: not kept)
        look = self._look if second_look_min > 0 else None
        self.hazards = CameraHazards(writer, sites, metrics, look, second_look_min)  # changes -> the hazard writer
        self.engines: dict[str, HazardEngine] = {}
        self.follow(sites.current())

    def follow(self, site: Site) -> None:
        """A new site config, without a restart: changed cameras get a new engine; dwell state is kept; the
        latest views of cameras no longer in the site are removed."""
        engines = {}
        for camera in site.cameras:
            old = self.engines.get(camera.id)
            engines[camera.id] = old if old and old.camera == camera else HazardEngine(camera, self.tuning)
        self.engines = engines
        if self.latest is not None:
            self.latest.retain(engines)

    def process(self, frame: Frame, frame_id: str | None = None, guard: Guard | None = None) -> FrameResult:
        """Detect, apply dwell logic and store one validated frame. Raises QueueFullError when saturated.

        `frame_id`: the id the frame already has (a broker's message: a redelivery then finds it stored);
        `guard`: run first in the frame's transaction, it raises to apply nothing (a worker's partition fence)."""
        encoded = frame.encoded if frame.encoded is not None else encode_jpeg(frame.image)
        sha = hashlib.sha256(encoded).hexdigest()
        with self.db.session() as session:
            duplicate = find_duplicate(session, frame.camera_id, sha)
        if duplicate is not None:
            self.metrics.reject("duplicate")
            return FrameResult(
                duplicate.id, frame.camera_id, duplicate.captured_at, late=duplicate.late, duplicate=True
            )

        work = FrameWork(frame, frame_id or uuid.uuid4().hex, sha, encoded, {})
        self.metrics.queue_depth.set(self.pool.depth)
        started = time.perf_counter()
        detections, inference_ms = self.pool.submit(frame.image).result(timeout=INFERENCE_TIMEOUT_S)
        detections = detections.scaled(*frame.upscale)  # from here on, boxes are in the picture's own pixels
        work.timings["inference"] = inference_ms
        work.timings["queue_wait"] = (time.perf_counter() - started) * 1000 - inference_ms
        self.metrics.inference_seconds.observe(inference_ms / 1000)

        with self.locks.one(frame.camera_id):
            with work.timed("static_objects"):
                detections = self.scenes.step(frame, detections)
            with work.timed("database"), self.db.session() as session:
                if guard is not None:
                    guard(session)
                engine = self.engines[frame.camera_id]
                observation, hazards = self._apply(session, engine, work, detections, inference_ms)
        if self.latest is not None and not observation.late:
            with work.timed("latest_view"):  # outside the camera's lock; a write at most every few minutes
                self.latest.offer(frame.camera_id, frame.captured_at, frame.width, frame.height, lambda: _jpeg(work))
        self.metrics.frames_accepted.labels(camera=frame.camera_id, source=frame.source).inc()
        for name, value in work.timings.items():
            self.metrics.stage_seconds.labels(stage=name).observe(value / 1000)
        return FrameResult(
            work.frame_id,
            frame.camera_id,
            frame.captured_at,
            late=observation.late,
            detections=observation.detections.to_records(),
            hazards=hazards,
            timings_ms=work.timings,
        )

    def _apply(
        self, session: Session, engine: HazardEngine, work: FrameWork, detections: Detections, inference_ms: float
    ) -> tuple[Observation, list[dict]]:
        """Dwell, frame row, detections, hazard changes and engine state: all in the caller's transaction."""
        frame = work.frame
        state_row = session.get(m.CameraState, frame.camera_id)
        state = CameraState.from_json(state_row.state if state_row else None)
        marks = [
            FixtureMark(f.id, f.category, f.class_name, tuple(f.box), f.expires_at)
            for f in (live_fixtures(session, frame.camera_id, frame.captured_at) if len(detections) else ())
        ]  # nothing detected: nothing can be a fixture, no query
        with work.timed("zones_dwell"):
            observation = engine.observe(
                state, frame.captured_at, detections, work.frame_id, frame.width, frame.height, marks
            )
        if marks:
            ignored = sum(f is not None for f in observation.detections.data[FIXTURE])
            self.metrics.fixtures_ignored.labels(camera=frame.camera_id).inc(ignored)
        record_row = m.FrameRecord(
            id=work.frame_id,
            camera_id=frame.camera_id,
            captured_at=frame.captured_at,
            source=frame.source,
            sha256=work.sha256,
            width=frame.width,
            height=frame.height,
            late=observation.late,
            inference_ms=inference_ms,
            device_event=frame.hint,
        )
        keeps_picture = any(c.kind in (ChangeKind.opened, ChangeKind.cleared) for c in observation.changes)
        if observation.any_in_zone or keeps_picture:
            with work.timed("evidence"):
                day = f"{frame.captured_at:%Y-%m-%d}"
                path = f"frames/{frame.camera_id}/{day}/{work.frame_id}.{suffix_of(work.encoded)}"
                record_row.image_path = self.writer.evidence.save(path, work.encoded, work.sha256).relative_path
        session.add(record_row)
        session.flush()
        add_detections(session, work.frame_id, observation.detections)
        widths = LaneWidths(engine.camera, observation.detections, (frame.width, frame.height))
        hazards = self.hazards.write_all(session, engine.camera, observation.changes, work, widths)
        # Late frames too: one may have moved a dwell start back (service/hazards/engine.py's rules).
        if state_row is None:
            session.add(m.CameraState(camera_id=frame.camera_id, state=state.to_json()))
        else:
            state_row.state = state.to_json()
        self.scenes.save_if_due(session, frame.camera_id)
        return observation, hazards

    def _look(self, image: np.ndarray) -> Detections | None:
        """The second look's model call, through the same pool; None when it cannot be had soon."""
        try:
            return self.pool.submit(image).result(timeout=SECOND_LOOK_TIMEOUT_S)[0]
        except (QueueFullError, TimeoutError):
            return None


def _jpeg(work: FrameWork) -> bytes:
    """The frame as received when it is a JPEG (no re-encode), else encoded once (PNG uploads)."""
    return work.encoded if is_jpeg(work.encoded) else encode_jpeg(work.picture())
