"""In a real browser: a camera just installed (no zones, so none of its frames is kept as evidence) shows what
it sees in the zone editor, desktop and phone, zh and en; before its first frame the page says so; and the
"learn the empty scene" button is disabled, with the reason, while a car stands in a zone.
Screenshots: test-output/web/latest-*.png."""

from __future__ import annotations

from datetime import timedelta

import pytest

from service.auth.keys import create_key
from tests.support import detections, wait_until
from tests.web.latest_support import NEW, site_with_new_cameras
from tests.web.live import LiveSite, browser, live, scene_png, shot  # noqa: F401  (fixtures)
from tests.web.support import T0
from tests.web.test_browser import BIG_CAR, DESKTOP, PHONE, new_page, sign_in

pytestmark = pytest.mark.slow


@pytest.fixture
def new_site(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path) -> LiveSite:
    """The live service (tests/web/live.py) on the demo site plus a new camera without zones."""
    monkeypatch.setenv("CLEARWAY_SITE_FILE", str(site_with_new_cameras(tmp_path)))
    return request.getfixturevalue("live")


def push(site: LiveSite, seed: int, seconds: float, *objects, camera: str) -> None:
    body, image = scene_png(seed, objects)
    site.detector.register(image, detections(*objects))
    with site.runtime.db.session() as session:
        key = create_key(session, f"installer-{seed}", "admin")
    with site.api() as api:
        response = api.post(
            f"/api/v1/cameras/{camera}/frames",
            content=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "image/png"},
            params={"captured_at": (T0 + timedelta(seconds=seconds)).isoformat()},
        )
    assert response.status_code == 201, response.text


def fits(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the window"


def test_a_new_camera_is_drawn_on_over_what_it_sees(new_site: LiveSite, browser) -> None:  # noqa: F811
    site = new_site
    page = new_page(browser, site, lang="en")
    sign_in(page, "lanting")
    page.wait_for_url("**/web/hazards**")
    page.goto(f"/web/cameras/{NEW}")
    assert "No frame received from this camera yet" in page.locator("#editor-image").inner_text()
    assert "no zones yet" in page.locator("#scene-state").inner_text()
    shot(page, "latest-editor-before-first-frame-en")
    page.context.close()

    push(site, 1, 0, camera=NEW)
    for lang in ("zh", "en"):
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page = new_page(browser, site, viewport=viewport, lang=lang)
            sign_in(page, "lanting")
            page.wait_for_url("**/web/hazards**")
            page.goto(f"/web/cameras/{NEW}")
            page.wait_for_function("document.querySelector('#editor-image').naturalWidth === 320")
            caption = page.locator("#view-caption").inner_text()
            assert "2026-05-01 16:00:00 +08:00" in caption
            fits(page)
            shot(page, f"latest-editor-new-camera-{name}-{lang}")
            page.goto("/web/cameras")
            thumb = page.locator(f"#camera-{NEW} img.thumb")
            thumb.scroll_into_view_if_needed()  # loaded lazily: below a phone's fold it waits to be seen
            assert wait_until(lambda: thumb.evaluate("img => img.complete && img.naturalWidth") == 320)  # noqa: B023
            fits(page)
            shot(page, f"latest-cameras-{name}-{lang}")
            page.context.close()


def test_learning_the_empty_scene_is_not_offered_while_a_car_stands_in_a_zone(new_site: LiveSite, browser) -> None:  # noqa: F811
    site = new_site
    for i in range(6):
        push(site, 10 + i, 30 * i, camera="lanting-gate")
    push(site, 20, 200, BIG_CAR, camera="lanting-gate")
    for lang, viewport, name in (("en", DESKTOP, "desktop"), ("zh", PHONE, "phone")):
        page = new_page(browser, site, viewport=viewport, lang=lang)
        sign_in(page, "lanting")
        page.wait_for_url("**/web/hazards**")
        page.goto("/web/cameras/lanting-gate")
        assert page.locator("#clear-reference").is_disabled()
        assert page.locator("#scene-blocked").is_visible()
        fits(page)
        shot(page, f"latest-scene-blocked-{name}-{lang}")
        page.context.close()
