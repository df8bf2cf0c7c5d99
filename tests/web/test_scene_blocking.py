"""'The latest picture is clear: learn it' is not offered while the detector sees an object in a zone of the
camera's latest frame, or while a hazard is open in one; the action refuses too (409 with the reason, and the
page's form answers with it), so a stale page cannot teach the model a parked car as the empty scene."""

from __future__ import annotations

import re

from sqlalchemy import select, update

from service.locale import catalogue
from service.store import models as m
from service.store.auth_models import AuditEntry
from service.web.routes.cameras import SCENE_ERRORS
from tests.api.conftest import Harness
from tests.web.support import CAR, login, open_hazard, push

GATE = "/web/cameras/lanting-gate"


def learn_empty_scene(h: Harness, seed: int = 100) -> None:
    for i in range(6):  # past the model's five start-up samples
        push(h, seed + i, 30 * i)


def form(h: Harness, csrf: str, path: str, **fields: str):
    return h.client.post(path, data={"csrf_token": csrf, **fields}, follow_redirects=False)


def button(page: str, element_id: str) -> str:
    found = re.search(rf'<button type="submit" id="{element_id}"[^>]*>', page)
    assert found is not None, element_id
    return found.group(0)


def test_an_object_in_a_zone_blocks_learning_the_empty_scene(site: Harness) -> None:
    h = site
    csrf = login(h.client, "lanting")
    learn_empty_scene(h)
    push(h, 200, 200, CAR)  # a car in the north fire lane, in the latest frame

    page = h.client.get(GATE).text
    assert "disabled" in button(page, "clear-reference")
    blocked = re.search(r'<div role="status" id="scene-blocked"><p class="alert" data-reason="(\w+)">([^<]+)</p>', page)
    assert blocked is not None and blocked.group(1) == "object_in_zone"
    assert "机动车" in blocked.group(2) and "北门消防车道 North fire lane" in blocked.group(2)
    assert "2026-05-01 16:03:20 +08:00" in blocked.group(2)  # the frame that shows it, in site time
    assert '<option value="fire-lane-north" disabled>' in page  # that zone cannot be confirmed clear...
    assert '<option value="kerb-road">' in page and "disabled" not in button(page, "confirm-zone")  # ...the other can

    refused = form(h, csrf, f"{GATE}/clear-reference")  # a stale page, or a hand-made post
    assert refused.headers["location"].endswith("scene_error=object_in_zone")
    assert "区域内检测到物体" in h.client.get(refused.headers["location"]).text
    refused = form(h, csrf, f"{GATE}/confirm-clear", zone="fire-lane-north")
    assert refused.headers["location"].endswith("scene_error=object_in_zone")
    assert (
        form(h, csrf, f"{GATE}/confirm-clear", zone="kerb-road")
        .headers["location"]
        .endswith("scene_done=confirm_zone&zone=kerb-road")
    )

    api = h.client.post("/api/v1/cameras/lanting-gate/clear-reference", headers=h.headers("lanting"))
    assert api.status_code == 409 and api.json()["detail"]["reason"] == "object_in_zone"
    assert "vehicle" in api.json()["detail"]["message"]
    api = h.client.post(
        "/api/v1/cameras/lanting-gate/zones/fire-lane-north/confirm-clear", headers=h.headers("lanting")
    )
    assert api.status_code == 409

    push(h, 201, 230)  # the car has gone: offered again
    page = h.client.get(GATE).text
    assert 'id="scene-blocked"' not in page and "disabled" not in button(page, "clear-reference")
    done = form(h, csrf, f"{GATE}/clear-reference")
    assert done.headers["location"].endswith("scene_done=clear_reference")
    with h.client.app.state.runtime.db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == "lanting-gate")).all()
    assert actions == ["zone.confirm_clear", "camera.clear_reference"]  # the refusals changed nothing


def test_an_open_hazard_blocks_it_even_when_the_latest_frame_misses_the_object(site: Harness) -> None:
    h = site
    csrf = login(h.client, "lanting")
    learn_empty_scene(h, seed=300)
    open_hazard(h, seed=310, start=200)
    push(h, 320, 510)  # one frame misses the car (a van in front): the hazard is still open
    page = h.client.get(GATE).text
    assert re.search(r'<p class="alert" data-reason="active_hazard">[^<]*北门消防车道', page)
    assert "disabled" in button(page, "clear-reference")
    assert form(h, csrf, f"{GATE}/clear-reference").headers["location"].endswith("scene_error=active_hazard")
    api = h.client.post("/api/v1/cameras/lanting-gate/clear-reference", headers=h.headers("lanting"))
    assert api.status_code == 409 and api.json()["detail"]["reason"] == "active_hazard"


def test_the_models_own_unknown_objects_never_block(site: Harness) -> None:
    """Declaring what the unknown-object watch reported part of the scene is what the button is for."""
    h = site
    login(h.client, "lanting")
    learn_empty_scene(h, seed=400)
    push(h, 410, 200, CAR)
    assert 'data-reason="object_in_zone"' in h.client.get(GATE).text
    with h.client.app.state.runtime.db.session() as session:
        session.execute(update(m.DetectionRecord).values(origin="static", class_name="unknown_object"))
    page = h.client.get(GATE).text
    assert 'id="scene-blocked"' not in page and "disabled" not in button(page, "clear-reference")
    api = h.client.post("/api/v1/cameras/lanting-gate/clear-reference", headers=h.headers("lanting"))
    assert api.status_code == 200 and api.json()["static_objects"]["state"] == "watching"


def test_every_refusal_has_words_in_both_languages() -> None:
    for lang in ("zh", "en"):
        words = catalogue(lang)
        assert all(f"scene.error.{code}" in words for code in SCENE_ERRORS)
        assert all(f"scene.blocked.{reason}" in words for reason in ("object_in_zone", "active_hazard"))
