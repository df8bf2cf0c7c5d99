"""Per-camera static models: which cameras get one, edits keep learning, operator actions, restart, late frames."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest

from service.camera_locks import CameraLocks
from service.config.settings import DEMO_SITE
from service.config.site import Site, load_site
from service.scene.measures import shift_window
from service.scene.scenes import StaticScenes
from service.store import models as m
from service.store.db import Database
from service.store.migrate import upgrade
from service.store.site_sync import sync_site
from service.vision.types import Detections, Frame
from tests.support import detections

SITE = load_site(DEMO_SITE)
CAMERA = "lanting-gate"
T0 = datetime(2026, 5, 1, 6, 0, tzinfo=UTC)
BACKGROUND = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (180, 320, 3), dtype=np.uint8), (0, 0), 1.5)
WITH_BOX = BACKGROUND.copy()
WITH_BOX[120:160, 100:160] = np.where((np.indices((40, 60)).sum(0) % 8 < 4)[..., None], 230, 20)  # in the fire lane
"""A textured lane, and the same lane with a chequered box left in `fire-lane-north`."""


def frame(seconds: float, image: np.ndarray = BACKGROUND, camera_id: str = CAMERA) -> Frame:
    return Frame(camera_id, T0 + timedelta(seconds=seconds), image)


def edited(site: Site, camera_id: str, **changes: object) -> Site:
    cameras = [c.model_copy(update=changes) if c.id == camera_id else c for c in site.cameras]
    return site.model_copy(update={"cameras": cameras})


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    upgrade(database.engine)
    with database.session() as session:
        sync_site(session, SITE)
    yield database
    database.dispose()


def scenes_for(db: Database, site: Site = SITE, **kwargs: object) -> StaticScenes:
    scenes = StaticScenes(db, CameraLocks(), **kwargs)
    scenes.apply_site(site)
    return scenes


def saved_row(db: Database, camera_id: str = CAMERA) -> m.StaticSceneState | None:
    with db.session() as session:
        return session.get(m.StaticSceneState, camera_id)


def test_cameras_with_static_objects_and_zones_get_a_model(db: Database) -> None:
    site = edited(edited(SITE, "huayuan-lane", static_objects=False), "huayuan-corridor", zones=[])
    scenes = scenes_for(db, site)
    assert sorted(scenes.scenes) == ["lanting-b3-stair", "lanting-gate"]
    assert scenes.get("huayuan-lane") is None and scenes.get("huayuan-corridor") is None
    passed = detections(("car", "vehicle", (1, 1, 5, 5)))
    assert scenes.step(frame(0, camera_id="huayuan-lane"), passed) is passed  # no model: detections as they are
    assert scenes.get(CAMERA).status() == {
        "enabled": True,
        "state": "learning",
        "startup_samples": 0,
        "startup_samples_needed": 5,
        "last_sample_at": None,
    }


def test_learned_scene_reports_a_left_object_as_clutter_beside_the_detections(db: Database) -> None:
    scenes = scenes_for(db)
    for i in range(6):
        assert len(scenes.step(frame(30 * i), Detections.empty())) == 0
    assert scenes.get(CAMERA).status()["state"] == "watching"
    scenes.step(frame(180, WITH_BOX), Detections.empty())
    person = detections(("person", "person", (250, 10, 270, 60)))
    out = scenes.step(frame(210, WITH_BOX), person)
    assert list(out.category) == ["person", "clutter"] and list(out.origin) == ["model", "static"]
    x1, y1, x2, y2 = out.xyxy[1]
    assert x1 <= 100 and y1 <= 120 and x2 >= 160 and y2 >= 160, "the region covers the box"


def test_an_unchanged_camera_keeps_its_scene_and_an_edited_one_keeps_what_it_learned(db: Database) -> None:
    scenes = scenes_for(db)
    for i in range(3):
        scenes.step(frame(30 * i), Detections.empty())
    before = scenes.get(CAMERA)
    scenes.apply_site(SITE)
    assert scenes.get(CAMERA) is before
    lane_only = [z for z in before.camera.zones if z.id == "fire-lane-north"]
    scenes.apply_site(edited(SITE, CAMERA, zones=lane_only))
    after = scenes.get(CAMERA)
    assert after is not before and after.camera.zones == lane_only
    assert after.last_captured_at == before.last_captured_at == T0 + timedelta(seconds=60)
    assert len(after.detector.bootstrap) == len(before.detector.bootstrap) == 3
    # The model works on the zones' neighbourhood: the narrower window keeps what the two share, exactly.
    shared = shift_window(before.detector.reference, before.detector.window, after.detector.window)
    assert np.array_equal(after.detector.reference, shared) and after.detector.unseen is None
    assert after.detector.region.sum() < before.detector.region.sum(), "only the region changed (kerb zone gone)"
    scenes.apply_site(SITE)  # the kerb zone back: the wider window's new pixels are learned from the next frame
    again = scenes.get(CAMERA)
    assert again.detector.unseen is not None and again.detector.unseen.any()
    scenes.step(frame(90), Detections.empty())
    assert again.detector.unseen is None and len(again.detector.bootstrap) == 4


def test_operator_actions_need_a_frame_first(db: Database) -> None:
    scenes = scenes_for(db)
    assert scenes.clear_reference(CAMERA) is False
    assert scenes.confirm_zone_clear(CAMERA, "fire-lane-north") is False
    assert scenes.clear_reference("no-such-camera") is False
    assert saved_row(db) is None
    scenes.step(frame(0), Detections.empty())
    assert scenes.confirm_zone_clear(CAMERA, "no-such-zone") is False
    assert scenes.confirm_zone_clear(CAMERA, "fire-lane-north") is True
    assert scenes.clear_reference(CAMERA) is True
    assert scenes.get(CAMERA).status()["state"] == "watching", "the clear reference ends start-up learning"
    assert saved_row(db) is not None and scenes.get(CAMERA).unsaved == 0, "saved at once"


def test_the_model_is_saved_every_save_every_frames(db: Database) -> None:
    scenes = scenes_for(db, save_every=3)
    for i in range(3):
        with db.session() as session:
            assert scenes.save_if_due(session, CAMERA) is False
        scenes.step(frame(30 * i), Detections.empty())
    with db.session() as session:
        assert scenes.save_if_due(session, CAMERA) is True
    assert saved_row(db).last_captured_at == T0 + timedelta(seconds=60)
    assert scenes.get(CAMERA).unsaved == 0


def test_close_saves_unsaved_models_and_a_restart_resumes(db: Database) -> None:
    scenes = scenes_for(db)
    for i in range(3):
        scenes.step(frame(30 * i), Detections.empty())
    scenes.step(frame(0, camera_id="lanting-b3-stair"), Detections.empty())
    assert scenes.close() == 2
    assert scenes.close() == 0, "nothing left unsaved"
    restarted = scenes_for(db)
    old, new = scenes.get(CAMERA), restarted.get(CAMERA)
    assert new.last_captured_at == T0 + timedelta(seconds=60)
    assert len(new.detector.bootstrap) == 3 and new.status()["startup_samples"] == 3
    for name, value in old.detector.state_dict().items():
        assert np.array_equal(new.detector.state_dict()[name], value), name
    assert restarted.get("huayuan-lane").detector.reference is None, "never fed: nothing saved, starts empty"


def test_late_frames_are_not_learned(db: Database) -> None:
    scenes = scenes_for(db)
    scenes.step(frame(60), Detections.empty())
    scene = scenes.get(CAMERA)
    learned = scene.detector.to_bytes()
    passed = detections(("car", "vehicle", (1, 1, 5, 5)))
    for late in (frame(60, WITH_BOX), frame(30, WITH_BOX)):  # same capture time, and earlier
        assert scenes.step(late, passed) is passed
    assert (scene.detector.index, scene.unsaved, scene.last_captured_at) == (1, 1, T0 + timedelta(seconds=60))
    assert scene.detector.to_bytes() == learned
    scenes.close()
    assert scenes_for(db).step(frame(30), passed) is passed, "still late after a restart"


def test_learning_of_an_edited_camera_survives_close_and_restart(db: Database) -> None:
    scenes = scenes_for(db)
    for i in range(3):
        scenes.step(frame(30 * i), Detections.empty())
    lane_only = [z for z in SITE.camera(CAMERA).zones if z.id == "fire-lane-north"]
    site = edited(SITE, CAMERA, zones=lane_only)
    scenes.apply_site(site)
    scenes.close()
    assert scenes_for(db, site).get(CAMERA).last_captured_at == T0 + timedelta(seconds=60)
