"""Per-camera static-object models wired for the pipeline: learn each sampled frame, fuse with the detector.

Why a separate layer: `StaticObjectDetector` is pure image logic; here it meets capture time (late frames are
not learned), config changes (zones edited: the learned scene is kept, only the region changes), operator
actions ("this is the clear reference", "zone confirmed clear") and persistence (the compressed model is saved
every `save_every` frames and on shutdown, so a restart resumes learning instead of starting over; a save
compresses a few MB of model, about 150 ms, so it is done every 60 frames, 5 min at one frame per 5 s).

Locking: `step` and `save_if_due` run inside the pipeline's per-camera lock (the caller holds it); the
operator actions, `apply_site` and `close` take the locks themselves, so they never meet a frame mid-way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from service.camera_locks import CameraLocks
from service.config.site import Camera, Site
from service.scene.detector import StaticObjectDetector
from service.scene.fusion import StaticFusion
from service.scene.settings import StaticSettings
from service.store import models as m
from service.store.db import Database, utcnow
from service.vision.types import Detections, Frame

log = logging.getLogger("clearway.static")


@dataclass
class StaticScene:
    """One camera's background model, its fusion memory, and what has not been saved yet."""

    camera: Camera
    detector: StaticObjectDetector
    fusion: StaticFusion = field(default_factory=StaticFusion)
    last_captured_at: datetime | None = None
    unsaved: int = 0

    @classmethod
    def for_camera(cls, camera: Camera, settings: StaticSettings) -> StaticScene:
        zones = [z.polygon for z in camera.zones]
        return cls(camera, StaticObjectDetector(zones, camera.masks, settings))

    def step(self, frame: Frame, detections: Detections) -> Detections:
        """Learn the frame and return the detector's rows plus the unexplained static regions (clutter)."""
        if self.last_captured_at is not None and frame.captured_at <= self.last_captured_at:
            return detections  # a late frame must not teach the model an old scene
        static = self.detector.update(frame.image).scaled(*frame.upscale)  # the model's size -> the picture's
        self.last_captured_at = frame.captured_at
        self.unsaved += 1
        return self.fusion(static, detections)

    def status(self) -> dict:
        """What an operator needs: is the model ready, and how many start-up samples it still needs."""
        detector = self.detector
        learning = detector.reference is None or bool(detector.bootstrap)
        return {
            "enabled": True,
            "state": "learning" if learning else "watching",
            "startup_samples": len(detector.bootstrap),
            "startup_samples_needed": detector.settings.bootstrap_samples,
            "last_sample_at": self.last_captured_at.isoformat() if self.last_captured_at else None,
        }


class StaticScenes:
    """The static models of every camera that has them enabled, with load/save against the database."""

    def __init__(
        self, db: Database, locks: CameraLocks, settings: StaticSettings | None = None, save_every: int = 60
    ) -> None:
        self.db = db
        self.locks = locks
        self.settings = settings or StaticSettings()
        self.save_every = save_every
        self.scenes: dict[str, StaticScene] = {}

    def apply_site(self, site: Site) -> None:
        """New or changed cameras get a model; an edited camera keeps what it learned (zones only change)."""
        with self.locks.all(c.id for c in site.cameras):
            self._apply_site(site)

    def _apply_site(self, site: Site) -> None:
        scenes: dict[str, StaticScene] = {}
        for camera in site.cameras:
            if not watches_unknown_objects(camera):
                continue
            old = self.scenes.get(camera.id)
            if old is not None and old.camera == camera:
                scenes[camera.id] = old
                continue
            scene = StaticScene.for_camera(camera, self.settings)
            if old is not None:
                scene.detector.load_bytes(old.detector.to_bytes())
                scene.last_captured_at = old.last_captured_at
                scene.unsaved = old.unsaved  # what it learned since the last save is still to be saved
            else:
                self._load(scene)
            scenes[camera.id] = scene
        self.scenes = scenes

    def reload(self, camera_ids: set[str]) -> None:
        """These cameras' models as last saved: a worker taking a camera partition over must not go on from
        what it knew before another worker had the cameras (docs/scale.md)."""
        with self.locks.all(camera_ids):
            for camera_id in camera_ids & set(self.scenes):
                old = self.scenes[camera_id]
                scene = StaticScene.for_camera(old.camera, self.settings)
                self._load(scene)
                self.scenes[camera_id] = scene

    def get(self, camera_id: str) -> StaticScene | None:
        return self.scenes.get(camera_id)

    def step(self, frame: Frame, detections: Detections) -> Detections:
        scene = self.scenes.get(frame.camera_id)
        return detections if scene is None else scene.step(frame, detections)

    # --- persistence ---------------------------------------------------------------------------------
    def _load(self, scene: StaticScene) -> None:
        with self.db.session() as session:
            row = session.get(m.StaticSceneState, scene.camera.id)
            if row is None:
                return
            try:
                scene.detector.load_bytes(row.model)
            except (ValueError, KeyError, OSError) as exc:  # unreadable: start over rather than fail start-up
                log.warning("static model of %s unreadable (%s): learning afresh", scene.camera.id, exc)
                scene.detector.reset()
                return
            scene.last_captured_at = row.last_captured_at

    def save_if_due(self, session: Session, camera_id: str) -> bool:
        """Inside the frame's transaction: write the model every `save_every` learned frames."""
        scene = self.scenes.get(camera_id)
        if scene is None or scene.unsaved < self.save_every:
            return False
        self.save(session, scene)
        return True

    @staticmethod
    def save(session: Session, scene: StaticScene) -> None:
        data = scene.detector.to_bytes()
        row = session.get(m.StaticSceneState, scene.camera.id)
        if row is None:
            session.add(
                m.StaticSceneState(camera_id=scene.camera.id, model=data, last_captured_at=scene.last_captured_at)
            )
        else:
            row.model, row.last_captured_at, row.updated_at = data, scene.last_captured_at, utcnow()
        scene.unsaved = 0

    def close(self) -> int:
        """On shutdown: write every model with unsaved learning. Returns how many were written."""
        with self.locks.all(self.scenes):
            return self._save_unsaved()

    def _save_unsaved(self) -> int:
        written = 0
        for scene in list(self.scenes.values()):
            if scene.unsaved:
                with self.db.session() as session:
                    self.save(session, scene)
                written += 1
        return written

    # --- operator actions ----------------------------------------------------------------------------
    def clear_reference(self, camera_id: str, check: Callable[[], None] | None = None) -> bool:
        """The latest picture shows the scene clear. False when the camera has no model or no frame yet.
        `check` runs under the camera's lock (no frame meanwhile) and may raise to refuse."""
        with self.locks.one(camera_id):
            if check is not None:
                check()
            scene = self.scenes.get(camera_id)
            if scene is None or not scene.detector.adopt_last_as_reference():
                return False
            scene.fusion = StaticFusion()
            self._save_now(scene)
            return True

    def confirm_zone_clear(self, camera_id: str, zone_id: str, check: Callable[[], None] | None = None) -> bool:
        """A zone was confirmed clear (by a person, or by the camera when its last hazard there cleared)."""
        with self.locks.one(camera_id):
            if check is not None:
                check()
            scene = self.scenes.get(camera_id)
            zone = scene.camera.zone(zone_id) if scene else None
            if scene is None or zone is None or scene.detector.reference is None:
                return False
            scene.detector.relearn(zone.polygon)
            self._save_now(scene)
            return True

    def _save_now(self, scene: StaticScene) -> None:
        with self.db.session() as session:
            self.save(session, scene)


def watches_unknown_objects(camera: Camera) -> bool:
    """Unknown objects are clutter: a camera needs the model only if one of its zones counts clutter (a lift's
    zone does not: strollers and wheelchairs ride lifts)."""
    return camera.static_objects and any("clutter" in zone.effective_categories for zone in camera.zones)
