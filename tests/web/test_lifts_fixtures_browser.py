"""Lifts and fixtures in a real browser, desktop and phone, zh and en: the lift card's bars, the release
button, the fixture mark drawn over the camera's view in the zone editor. Screenshots:
test-output/web/lifts-*.png and fixtures-*.png (looked at by people)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from service.auth.keys import create_key
from tests.support import detections
from tests.web.live import LiveSite, browser, live, scene_png, shot  # noqa: F401  (fixtures)
from tests.web.support import T0
from tests.web.test_browser import DESKTOP, PHONE, new_page, open_hazard, sign_in

pytestmark = pytest.mark.slow
EBIKE = ("motorcycle", "two_wheeler", (120, 70, 200, 175))  # 320x180: in the lift's lower three quarters


def push_lift(site: LiveSite, key: str, seed: int, seconds: float, *objects) -> dict:
    body, image = scene_png(seed, objects)
    site.detector.register(image, detections(*objects))
    with site.api() as api:
        response = api.post(
            "/api/v1/cameras/lanting-b3-lift/frames",
            content=body,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "image/png"},
            params={"captured_at": (T0 + timedelta(seconds=seconds)).isoformat()},
        )
    assert response.status_code == 201, response.text
    return response.json()


def overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


def test_lift_card_release_and_fixture_overlay_on_desktop_and_phone(live: LiveSite, browser) -> None:  # noqa: F811
    with live.runtime.db.session() as session:
        key = create_key(session, "lift-gw", "gateway", camera_ids=["lanting-b3-lift"])
    lift_hazard = next(
        c["hazard_id"] for t in (0, 3, 6) for c in push_lift(live, key, 700 + t, t, EBIKE)["hazards"] if c["hazard_id"]
    )
    kiosk = open_hazard(live, 800)
    police = new_page(browser, live, lang="en")
    sign_in(police, "police")
    police.wait_for_url(re.compile(r"/web/hazards"))
    police.goto(f"/web/hazards/{kiosk}")
    police.locator("#form-fixture").evaluate("form => form.closest('details').open = true")
    police.fill("#fixture-note", "newspaper kiosk")
    police.click("#do-fixture")
    police.wait_for_url(re.compile(r"done=fixture"))
    police.context.close()

    for lang, viewport, name in (("en", DESKTOP, "desktop"), ("zh", PHONE, "phone")):
        page = new_page(browser, live, viewport=viewport, lang=lang)
        sign_in(page, "lanting")
        page.wait_for_url(re.compile(r"/web/hazards"))
        page.goto("/web/cameras")
        card = page.locator("#lift-card")
        assert card.is_visible() and card.locator("svg.lift-bars rect.bar").count() == 7
        assert overflow(page) <= 1, f"cameras ({lang}) is wider than the screen"
        card.screenshot(path=str(shot(page, f"lifts-cameras-{name}-{lang}")).replace(".png", "-card.png"))
        page.goto(f"/web/hazards/{lift_hazard}")
        assert page.locator("#do-release").is_visible() and overflow(page) <= 1
        shot(page, f"lifts-hazard-{name}-{lang}")
        page.goto("/web/cameras/lanting-gate")
        layer = page.locator("#fixture-layer")
        assert layer.is_visible() and layer.locator("rect").count() == 1
        box = layer.locator("rect").bounding_box()
        assert box is not None and box["width"] > 10 and box["height"] > 10  # drawn where the kiosk stands
        assert page.locator("#fixtures-card").is_visible() and overflow(page) <= 1
        shot(page, f"fixtures-editor-{name}-{lang}")
        page.context.close()
