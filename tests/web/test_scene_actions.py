"""The zone editor's unknown-object card: model state shown, "clear reference" and "zone confirmed clear"
acted on the running model, refused without a frame, by role and across compounds, audited."""

from __future__ import annotations

import re

from sqlalchemy import select

from service.store import models as m
from service.store.auth_models import AuditEntry
from tests.api.conftest import Harness
from tests.web.support import fresh_client, login, open_hazard, push


def act(h: Harness, csrf: str, path: str, client=None, **form: str):
    return (client or h.client).post(path, data={"csrf_token": csrf, **form}, follow_redirects=False)


def test_clear_reference_and_confirm_zone_from_the_editor(site: Harness) -> None:
    h = site
    csrf = login(h.client, "lanting")
    page = h.client.get("/web/cameras/lanting-gate")
    assert 'data-state="learning"' in page.text and "0/5" in page.text and 'id="clear-reference"' in page.text
    assert "未标定" in page.text  # default language: Chinese

    refused = act(h, csrf, "/web/cameras/lanting-gate/clear-reference")
    assert refused.status_code == 303 and refused.headers["location"].endswith("scene_error=no_frame")
    assert 'id="scene-error"' in h.client.get(refused.headers["location"]).text
    assert act(h, "wrong", "/web/cameras/lanting-gate/clear-reference").status_code == 403  # CSRF

    for i in range(6):
        push(h, 10 + i, 30 * i)
    done = act(h, csrf, "/web/cameras/lanting-gate/clear-reference")
    assert done.headers["location"].endswith("scene_done=clear_reference")
    page = h.client.get(done.headers["location"]).text
    assert "当前画面已设为空场景" in page and 'data-state="watching"' in page

    unknown = act(h, csrf, "/web/cameras/lanting-gate/confirm-clear", zone="nope")
    assert unknown.headers["location"].endswith("scene_error=invalid")
    zone = act(h, csrf, "/web/cameras/lanting-gate/confirm-clear", zone="fire-lane-north")
    assert re.search(r"scene_done=confirm_zone&zone=fire-lane-north$", zone.headers["location"])

    with h.client.app.state.runtime.db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == "lanting-gate")).all()
    assert actions == ["camera.clear_reference", "zone.confirm_clear"]


def test_scene_actions_respect_role_and_compound(site: Harness) -> None:
    h = site
    county = fresh_client(h)
    csrf = login(county, "county")
    assert 'id="clear-reference"' not in county.get("/web/cameras/lanting-gate").text
    refused = act(h, csrf, "/web/cameras/lanting-gate/clear-reference", client=county)
    assert refused.headers["location"].endswith("scene_error=forbidden")
    other = fresh_client(h)
    csrf = login(other, "huayuan")
    assert act(h, csrf, "/web/cameras/lanting-gate/clear-reference", client=other).status_code == 404


def test_hazard_page_shows_clear_width_and_names_unknown_objects(site: Harness) -> None:
    h = site
    hazard_id = open_hazard(h)
    with h.client.app.state.runtime.db.session() as session:
        hazard = session.get(m.HazardEvent, hazard_id)
        hazard.clear_width_m, hazard.severity, hazard.class_name = 3.42, "major", "unknown_object"
    login(h.client, "police")
    page = h.client.get(f"/web/hazards/{hazard_id}?lang=en").text
    width = re.search(r'<dd id="clear-width" class="danger-text">([^<]+)</dd>', page)
    assert width is not None and "3.42" in width.group(1)
    assert "unknown_object" not in page.split('id="history"')[0]  # named for people, not as the internal class
