"""Who looked at the evidence is on record, but the queue's thumbnails are not: a page of previews would bury
the real views (the original, the annotated picture, the frames) under dozens of rows. SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from service.store.auth_models import AuditEntry
from tests.api.conftest import Harness
from tests.api.support import open_hazard
from tests.web.support import add_people, login


def views(h: Harness) -> list[tuple[str, str, str, str]]:
    with h.client.app.state.runtime.db.session() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "evidence.view").order_by(AuditEntry.id))
        return [(a.actor, a.via, a.object_type, a.detail) for a in rows]


def test_thumbnails_are_not_audited_the_evidence_is(harness: Harness) -> None:
    hazard_id = open_hazard(harness)
    url = f"/api/v1/hazards/{hazard_id}/evidence"
    police = harness.headers("police")
    for _ in range(3):  # the queue, reloaded
        thumb = harness.client.get(f"{url}/thumbnail", headers=police)
        assert thumb.status_code == 200 and thumb.content[:3] == b"\xff\xd8\xff"
    assert views(harness) == []
    for kind in ("original", "annotated"):
        assert harness.client.get(f"{url}/{kind}", headers=police).status_code == 200
    assert views(harness) == [("police:ps", "api", "hazard", "original"), ("police:ps", "api", "hazard", "annotated")]


def test_a_person_on_the_desk_leaves_no_row_per_thumbnail(harness: Harness) -> None:
    hazard_id = open_hazard(harness)
    add_people(harness)
    login(harness.client, "police")
    queue = harness.client.get("/web/hazards")
    assert f"/api/v1/hazards/{hazard_id}/evidence/thumbnail" in queue.text
    assert harness.client.get(f"/api/v1/hazards/{hazard_id}/evidence/thumbnail").status_code == 200
    assert views(harness) == []
    frame_id = harness.client.get(f"/api/v1/hazards/{hazard_id}").json()["first_frame_id"]
    assert harness.client.get(f"/web/frames/{frame_id}").status_code == 200  # a whole frame is evidence
    assert harness.client.get(f"/api/v1/hazards/{hazard_id}/evidence/annotated").status_code == 200
    assert views(harness) == [
        ("police:police", "web", "frame", "lanting-gate"),
        ("police:police", "web", "hazard", "annotated"),
    ]
