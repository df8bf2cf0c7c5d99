"""The real view of every camera: a new camera (no zones, so none of its frames is kept as evidence) shows its
latest frame in the zone editor and on the cameras page, with its capture time in site time; the view is served
to those who may see its compound only; the unknown-object card gives the real reason it is off."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from service.store import models as m
from service.store.auth_models import AuditEntry
from tests.api.conftest import Harness
from tests.web.latest_support import NEW, NO_STATIC, push_as_admin, site_with_new_cameras
from tests.web.support import T0, add_people, fresh_client, login


@pytest.fixture
def newsite(make_harness: Callable[..., Harness], tmp_path) -> Harness:
    h = make_harness(site_file=site_with_new_cameras(tmp_path))
    add_people(h)
    return h


def in_english(client, url: str) -> str:
    client.cookies.set("cw_lang", "en")
    try:
        return client.get(url).text
    finally:
        client.cookies.delete("cw_lang")


def editor_image(page: str) -> str | None:
    found = re.search(r'<img src="([^"]+)"[^>]*id="editor-image"', page)
    return found.group(1) if found else None


def test_a_new_camera_shows_its_latest_frame_in_the_editor(newsite: Harness) -> None:
    h = newsite
    login(h.client, "lanting")
    before = h.client.get(f"/web/cameras/{NEW}").text
    assert editor_image(before) is None and "尚未收到此摄像头的画面" in before  # said, not a blank canvas
    assert h.client.get(f"/web/cameras/{NEW}/view.jpg").status_code == 404

    push_as_admin(h, NEW, 0)
    with h.client.app.state.runtime.db.session() as session:
        kept = session.scalars(select(m.FrameRecord.image_path).where(m.FrameRecord.camera_id == NEW)).all()
    assert kept == [None]  # no zone, no object: the frame itself is not kept as evidence...

    page = h.client.get(f"/web/cameras/{NEW}").text
    url = editor_image(page)
    assert url is not None and url.startswith(f"/web/cameras/{NEW}/view.jpg")  # ...its view is shown all the same
    assert 'width="64" height="48"' in page and '"w": 64, "h": 48' in page.replace("&#34;", '"')
    assert "2026-05-01 16:00:00 +08:00 的画面" in page  # 08:00 UTC, in the site's time zone
    answer = h.client.get(url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "image/jpeg"
    assert answer.headers["cache-control"] == "private, no-store"
    assert answer.headers["x-captured-at"] == T0.isoformat()
    assert Image.open(io.BytesIO(answer.content)).size == (64, 48)

    english = in_english(h.client, f"/web/cameras/{NEW}")
    assert "View of 2026-05-01 16:00:00 +08:00" in english

    cameras = h.client.get("/web/cameras").text
    row = cameras.split(f'id="camera-{NEW}"')[1].split("</tr>")[0]
    assert f'src="/web/cameras/{NEW}/view.jpg' in row and "2026-05-01 16:00 +08:00" in row
    never = cameras.split('id="camera-huayuan-lane"')  # not the company's camera: not even listed
    assert len(never) == 1
    assert "尚未收到画面" in cameras.split('id="camera-lanting-b3-stair"')[1].split("</tr>")[0]


def test_a_jpeg_is_kept_as_sent_and_the_view_is_replaced_when_due(make_harness, tmp_path) -> None:
    h = make_harness(site_file=site_with_new_cameras(tmp_path), latest_frame_every_s=0)
    first = push_as_admin(h, NEW, 0, kind="jpeg", seed=3)
    view = h.client.get(f"/web/cameras/{NEW}/view.jpg", headers=h.headers("admin"))
    assert view.content == first["sent"]  # the camera's own JPEG: no re-encoding
    push_as_admin(h, NEW, 60, kind="jpeg", seed=4)
    view = h.client.get(f"/web/cameras/{NEW}/view.jpg", headers=h.headers("admin"))
    assert view.headers["x-captured-at"] == (T0 + timedelta(seconds=60)).isoformat()


def test_the_view_is_written_at_most_every_interval(newsite: Harness) -> None:
    h = newsite
    push_as_admin(h, NEW, 0, seed=5)
    push_as_admin(h, NEW, 30, seed=6)  # the default interval is 120 s of the service's own clock
    view = h.client.get(f"/web/cameras/{NEW}/view.jpg", headers=h.headers("admin"))
    assert view.headers["x-captured-at"] == T0.isoformat()


def test_the_view_is_scoped_like_evidence_and_audited(newsite: Harness) -> None:
    h = newsite
    push_as_admin(h, NEW, 0)
    url = f"/web/cameras/{NEW}/view.jpg"
    assert h.client.get(url, headers=h.headers("huayuan")).status_code == 404  # another company's camera
    assert h.client.get(url, headers=h.headers("gateway")).status_code == 403  # machines send, not look
    assert h.client.get(url).status_code == 401
    assert h.client.get(url, headers=h.headers("lanting")).status_code == 200
    assert h.client.get(url, headers=h.headers("county")).status_code == 200
    other = fresh_client(h)
    login(other, "huayuan")
    assert other.get(url).status_code == 404
    assert other.get(f"/web/cameras/{NEW}").status_code == 404
    assert h.client.get("/web/cameras/..%2F..%2Fetc/view.jpg", headers=h.headers("admin")).status_code == 404
    with h.client.app.state.runtime.db.session() as session:
        views = session.scalars(select(AuditEntry.actor).where(AuditEntry.action == "camera.view")).all()
    assert len(views) == 2


def test_the_unknown_object_card_gives_the_real_reason(newsite: Harness) -> None:
    h = newsite
    login(h.client, "lanting")
    no_zones = in_english(h.client, f"/web/cameras/{NEW}")
    state = re.search(r'<p id="scene-state" data-state="off" data-reason="(\w+)">([^<]+)</p>', no_zones)
    assert state is not None and state.group(1) == "no_zones"
    assert "no zones yet" in state.group(2) and "static_objects" not in state.group(2)
    off = in_english(h.client, f"/web/cameras/{NO_STATIC}")
    state = re.search(r'<p id="scene-state" data-state="off" data-reason="(\w+)">([^<]+)</p>', off)
    assert state is not None and state.group(1) == "static_objects_off" and "static_objects: false" in state.group(2)
    learning = in_english(h.client, "/web/cameras/lanting-gate")
    assert 'data-state="learning"' in learning and "No frame received from this camera yet" in learning
    answer = h.client.post(f"/api/v1/cameras/{NEW}/clear-reference", headers=h.headers("lanting"))
    assert answer.status_code == 409 and answer.json()["detail"]["reason"] == "no_zones"


def test_a_camera_removed_from_the_site_loses_its_view(newsite: Harness) -> None:
    h = newsite
    push_as_admin(h, NEW, 0)
    runtime = h.client.app.state.runtime
    latest_file = h.settings.data_dir / "latest" / f"{NEW}.jpg"
    assert latest_file.is_file()
    site = runtime.sites.current()
    runtime.sites.publish(site.model_copy(update={"cameras": [c for c in site.cameras if c.id != NEW]}))
    assert not latest_file.exists()
    assert h.client.get(f"/web/cameras/{NEW}/view.jpg", headers=h.headers("admin")).status_code == 404
