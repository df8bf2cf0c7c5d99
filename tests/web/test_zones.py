"""Zone editor saves: validated with exact paths, stored, applied live, audited, kept across restarts."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from service.store.auth_models import AuditEntry
from service.store.models import CameraOverride
from tests.api.conftest import Harness
from tests.web.support import add_people, fresh_client, login, push

BAY = {
    "id": "loading-bay",
    "type": "safety_exit",
    "name": "装卸区",
    "polygon": [[0.55, 0.1], [0.95, 0.1], [0.95, 0.28], [0.55, 0.28]],
    "dwell_seconds": 30,
}
SCOOTER = ("motorcycle", "two_wheeler", (44, 5, 52, 12))  # ground point (48, 12) of 64x48 = (0.75, 0.25)


def current(h: Harness) -> dict:
    camera = h.client.app.state.runtime.sites.current().camera("lanting-gate")
    return {
        "zones": [z.model_dump(mode="json", exclude_none=True) for z in camera.zones],
        "masks": [[list(p) for p in mask] for mask in camera.masks],
    }


def save(h: Harness, csrf: str | None, body: dict, camera: str = "lanting-gate", client=None):
    headers = {"X-CSRF-Token": csrf} if csrf else {}
    return (client or h.client).post(f"/web/cameras/{camera}/zones", json=body, headers=headers)


def test_save_validates_applies_audits_and_survives_a_restart(make_harness: Callable[..., Harness]) -> None:
    h = make_harness()
    add_people(h)
    csrf = login(h.client, "lanting")
    assert push(h, 1, 0, SCOOTER)["detections"][0]["zones"] == []
    body = current(h)
    assert save(h, None, {"revision": 0, **body}).status_code == 403  # no CSRF token
    broken = {
        "revision": 0,
        "zones": [*body["zones"], {**BAY, "polygon": [[0.1, 0.1], [0.2, 0.2]]}],
        "masks": body["masks"],
    }
    refused = save(h, csrf, broken)
    assert refused.status_code == 422
    assert any(
        e.startswith("cameras[0].zones[2].polygon") and "at least 3 points" in e for e in refused.json()["errors"]
    )
    body["zones"].append(BAY)
    saved = save(h, csrf, {"revision": 0, **body})
    assert saved.status_code == 200 and saved.json()["revision"] == 1
    assert push(h, 2, 10, SCOOTER)["detections"][0]["zones"] == ["loading-bay"]  # applied, no restart
    assert save(h, csrf, {"revision": 0, **body}).status_code == 409  # based on an old revision
    with h.client.app.state.runtime.db.session() as session:
        row = session.get(CameraOverride, "lanting-gate")
        assert row.revision == 1 and row.updated_by == "property:lanting"
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "zones.save")).one()
        assert audit.object_id == "lanting-gate" and "loading-bay" in audit.detail
    h.client.__exit__(None, None, None)
    again = make_harness()  # same database: the saved zones win over the site file
    zones = [z.id for z in again.client.app.state.runtime.sites.current().camera("lanting-gate").zones]
    assert zones == ["fire-lane-north", "kerb-road", "loading-bay"]


def test_only_property_managers_of_the_camera_and_admins_may_save(site: Harness) -> None:
    body = {"revision": 0, **current(site)}
    police = fresh_client(site)
    assert save(site, login(police, "police"), body, client=police).status_code == 403
    other = fresh_client(site)
    assert save(site, login(other, "huayuan"), body, client=other).status_code == 404
    assert other.get("/web/cameras/lanting-gate").status_code == 404
    admin = fresh_client(site)
    assert save(site, login(admin, "admin"), body, client=admin).status_code == 200
    page = police.get("/web/cameras/lanting-gate").text
    assert 'id="add-zone"' not in page and "fieldset disabled" in page  # police may look, not edit
