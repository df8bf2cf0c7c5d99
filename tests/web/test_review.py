"""The review desk over HTTP (no browser): queue, hazard page, actions, proof, isolation, audit, i18n."""

from __future__ import annotations

import io
import re

from PIL import Image
from sqlalchemy import select

from service.store import models as m
from service.store.auth_models import AuditEntry
from service.web.config import WebSettings
from tests.api.conftest import Harness
from tests.web.support import fresh_client, login, open_hazard, push

CARS = [("car", "vehicle", (4 + 12 * n, 30, 12 + 12 * n, 45)) for n in range(5)]  # five cars in the fire lane


def five_hazards(h: Harness) -> list[int]:
    for i, t in enumerate((0, 150)):
        push(h, 100 + i, t, *CARS)
    return sorted(x["hazard_id"] for x in push(h, 102, 300, *CARS)["hazards"])


def ids_on(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'class="qitem" href="/web/hazards/\d+\?[^"]*" data-id="(\d+)"', page)]


def test_queue_counts_filters_orders_and_pages(site: Harness) -> None:
    ids = five_hazards(site)
    site.client.app.state.web_settings = WebSettings(page_size=2, default_language="en")
    login(site.client, "police")
    first = site.client.get("/web/hazards").text
    assert ids_on(first) == ids[::-1][:2]
    assert 'To do <span class="count">5</span>' in first
    older = re.search(r'href="(\?[^"]*cursor=\d+[^"]*)" rel="next"', first).group(1).replace("&amp;", "&")
    second = site.client.get(f"/web/hazards{older}").text
    assert ids_on(second) == ids[::-1][2:4]
    newer = re.search(r'href="(\?[^"]*before=\d+[^"]*)" rel="prev"', second).group(1).replace("&amp;", "&")
    assert ids_on(site.client.get(f"/web/hazards{newer}").text) == ids[::-1][:2]
    assert ids_on(site.client.get("/web/hazards?order=oldest").text) == ids[:2]
    for query, expected in (
        ("compound=huayuan", []),
        ("camera=lanting-gate&zone_type=fire_lane&category=vehicle", ids[::-1][:2]),
        ("category=clutter", []),
        ("status=dismissed", []),
        ("from=2026-05-01&to=2026-05-01", ids[::-1][:2]),
        ("from=2026-05-02", []),
    ):
        assert ids_on(site.client.get(f"/web/hazards?{query}").text) == expected, query


def delivered(h: Harness, hazard_id: int, agency: str) -> None:
    """A delivery outbox row as the dispatcher leaves it after sending (shown per recipient)."""
    from service.store.db import utcnow
    from service.store.delivery_models import Delivery

    with h.client.app.state.runtime.db.session() as session:
        history = session.scalars(select(m.HazardHistory).where(m.HazardHistory.hazard_id == hazard_id)).first()
        now = utcnow()
        session.add(
            Delivery(
                idempotency_key=f"test-{hazard_id}-{agency}",
                hazard_id=hazard_id,
                history_id=history.id,
                event="opened",
                agency_id=agency,
                agency_kind="property_company",
                channel="email-duty",
                channel_type="email",
                status="delivered",
                attempts=1,
                next_attempt_at=now,
                expires_at=now,
                delivered_at=now,
                payload={},
            )
        )


def test_hazard_page_shows_evidence_frames_recipients_history(site: Harness) -> None:
    hazard_id = open_hazard(site)
    delivered(site, hazard_id, "pm-lanting")
    login(site.client, "police")
    page = site.client.get(f"/web/hazards/{hazard_id}")
    assert page.status_code == 200
    html = page.text
    assert f"/api/v1/hazards/{hazard_id}/evidence/annotated" in html
    assert f"/api/v1/hazards/{hazard_id}/evidence/original" in html
    frames = re.findall(r'src="/web/frames/([0-9a-f]{32})"', html)
    assert len(frames) == 2 and frames[0] != frames[1]  # first seen and latest, side by side
    assert 'class="ov-box"' in html and 'class="ov-zone"' in html  # our overlay, usable on the original
    assert "兰亭物业 Lanting Property Services" in html and "城关派出所 Chengguan Police Station" in html
    assert "5 分钟" in html  # duration: first seen 08:00, flagged 08:05
    assert "已送达</span> 立案 · email-duty" in html  # delivery status per recipient, from the outbox
    assert 'id="form-confirm"' in html and 'id="form-dismiss"' in html
    for frame_id in frames:
        image = site.client.get(f"/web/frames/{frame_id}")
        assert image.status_code == 200 and image.headers["cache-control"] == "private, no-store"
    for header in ("content-security-policy", "x-frame-options", "x-content-type-options"):
        assert header in page.headers
    assert page.headers["cache-control"] == "private, no-store"


def act(h: Harness, csrf: str, hazard_id: int, action: str, **fields: object):
    return h.client.post(
        f"/web/hazards/{hazard_id}/{action}",
        data={"csrf_token": csrf, "queue": "status=all", **fields},
        follow_redirects=False,
    )


def detail(h: Harness, hazard_id: int) -> dict:
    return h.client.get(f"/api/v1/hazards/{hazard_id}", headers=h.headers("admin")).json()


def test_actions_follow_the_api_rules_and_triage_moves_on(site: Harness) -> None:
    ids = five_hazards(site)
    csrf = login(site.client, "police")
    response = act(site, csrf, ids[4], "confirm")
    assert response.status_code == 303 and response.headers["location"].startswith(f"/web/hazards/{ids[3]}?")
    assert detail(site, ids[4])["confirmed"] is True and detail(site, ids[4])["severity"] == "minor"
    act(site, csrf, ids[1], "confirm", severity="major")  # the page's "confirm as major" button
    assert detail(site, ids[1])["severity"] == "major"
    assert "error=invalid" in act(site, csrf, ids[3], "dismiss").headers["location"]  # a reason is required
    assert act(site, csrf, ids[3], "dismiss", reason="duplicate", note="same car as #5").status_code == 303
    assert detail(site, ids[3])["dismiss_reason"] == "duplicate: same car as #5"
    assert "error=conflict" in act(site, csrf, ids[3], "rectify").headers["location"]
    assert act(site, csrf, ids[2], "note", note="owner called").status_code == 303
    assert detail(site, ids[2])["history"][-1]["note"] == "owner called"
    county = fresh_client(site)
    county_csrf = login(county, "county")
    page = county.get(f"/web/hazards/{ids[2]}").text
    assert 'id="form-confirm"' not in page and 'id="form-note"' not in page  # county reads only
    refused = county.post(f"/web/hazards/{ids[2]}/confirm", data={"csrf_token": county_csrf}, follow_redirects=False)
    assert "error=forbidden" in refused.headers["location"]
    pm = fresh_client(site)
    pm_csrf = login(pm, "lanting")
    assert (
        "error=forbidden"
        in pm.post(
            f"/web/hazards/{ids[2]}/dismiss", data={"csrf_token": pm_csrf, "reason": "other"}, follow_redirects=False
        ).headers["location"]
    )
    assert detail(site, ids[2])["status"] == "open"


def jpeg(color: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (80, 60), color).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_rectified_with_an_after_photo_then_verified_clear_by_the_camera(site: Harness) -> None:
    hazard_id = open_hazard(site)
    csrf = login(site.client, "lanting")
    response = site.client.post(
        f"/web/hazards/{hazard_id}/rectify",
        data={"csrf_token": csrf, "note": "car towed"},
        files={"photo": ("after.jpg", jpeg((40, 160, 60)), "image/jpeg")},
        follow_redirects=False,
    )
    assert response.status_code == 303 and "error" not in response.headers["location"]
    after = detail(site, hazard_id)
    assert after["status"] == "rectified"
    assert [h["action"] for h in after["history"]][-2:] == ["rectified", "after_photo"]
    photo = next(e for e in after["evidence"] if e["kind"] == "after-1")
    assert site.client.get(photo["url"]).content == jpeg((40, 160, 60))
    bad = site.client.post(
        f"/web/hazards/{hazard_id}/photo",
        data={"csrf_token": csrf},
        files={"photo": ("x.jpg", b"not an image", "image/jpeg")},
        follow_redirects=False,
    )
    assert "error=photo_invalid" in bad.headers["location"]
    assert 'id="verified"' not in site.client.get(f"/web/hazards/{hazard_id}").text
    for i in range(3):  # the lane is empty for 90 s: the camera confirms it is clear
        push(site, 200 + i, 300 + 30 * (i + 1))
    page = site.client.get(f"/web/hazards/{hazard_id}").text
    assert 'id="verified"' in page and "摄像头于 2026-05-01 16:06:30 +08:00 确认已清除" in page
    assert detail(site, hazard_id)["status"] == "rectified"  # kept; the camera adds its proof


def test_another_property_company_sees_nothing_by_guessing_ids(site: Harness) -> None:
    hazard_id = open_hazard(site)
    frame_id = detail(site, hazard_id)["latest_frame_id"]
    csrf = login(site.client, "huayuan")
    assert ids_on(site.client.get("/web/hazards?status=all").text) == []
    for url in (
        f"/web/hazards/{hazard_id}",
        f"/web/frames/{frame_id}",
        f"/api/v1/hazards/{hazard_id}",
        f"/api/v1/hazards/{hazard_id}/evidence/original",
        "/web/cameras/lanting-gate",
    ):
        assert site.client.get(url).status_code == 404, url
    for action in ("acknowledge", "rectify", "note", "photo"):
        response = act(site, csrf, hazard_id, action, note="x")
        assert response.status_code in (303, 404), action
        assert response.status_code == 404 or "error" in response.headers["location"], action
    assert (
        site.client.post(f"/api/v1/hazards/{hazard_id}/acknowledge", headers={"X-CSRF-Token": csrf}).status_code == 404
    )
    assert site.client.get(f"/web/frames/{frame_id}", headers=site.headers("huayuan")).status_code == 404
    assert "lanting-gate" not in site.client.get("/web/cameras").text
    assert detail(site, hazard_id)["history"][-1]["action"] == "opened"  # nothing happened to it


def test_evidence_views_and_actions_are_audited_not_in_history(site: Harness) -> None:
    hazard_id = open_hazard(site)
    assert (
        site.client.get(f"/api/v1/hazards/{hazard_id}/evidence/original", headers=site.headers("police")).status_code
        == 200
    )
    site.client.post(f"/api/v1/hazards/{hazard_id}/confirm", headers=site.headers("police"))
    csrf = login(site.client, "police")
    site.client.get(f"/api/v1/hazards/{hazard_id}/evidence/annotated")
    act(site, csrf, hazard_id, "note", note="checked on site")
    with site.client.app.state.runtime.db.session() as session:
        rows = [
            (a.actor, a.via, a.action, a.detail) for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
        history = [h.action for h in session.scalars(select(m.HazardHistory))]
    assert ("police:ps", "api", "evidence.view", "original") in rows
    assert ("police:ps", "api", "hazard.confirm", "severity minor") in rows
    assert ("police:police", "web", "evidence.view", "annotated") in rows
    assert ("police:police", "web", "hazard.note", "checked on site") in rows
    assert any(r[2] == "login" for r in rows)
    assert "evidence_viewed" not in history
    assert site.client.get("/web/audit").status_code == 403  # admins only
    admin = fresh_client(site)
    login(admin, "admin")
    page = admin.get("/web/audit?action=hazard.").text
    assert "hazard.note" in page and "evidence.view" not in page


def test_language_switch_and_chinese_default(site: Harness) -> None:
    login(site.client, "police")
    page = site.client.get("/web/hazards").text
    assert '<html lang="zh-CN">' in page and "审核队列" in page
    switched = site.client.get("/web/lang/en?next=/web/cameras", follow_redirects=False)
    assert switched.headers["location"] == "/web/cameras"
    assert "Review queue" in site.client.get("/web/cameras").text
    assert site.client.get("/web/lang/en?next=//evil.example", follow_redirects=False).headers["location"] == (
        "/web/hazards"
    )
