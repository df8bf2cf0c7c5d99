"""The pages in a real browser (Debian's Chromium through Playwright) against a real uvicorn server:
log in, review and dismiss, keyboard triage, draw a zone that the next frame obeys, isolation between
property companies, CSRF refusals, phone width and both languages. Screenshots: test-output/web/.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.support import detections
from tests.web.live import LiveSite, browser, live, scene_png, shot  # noqa: F401  (fixtures)
from tests.web.support import PASSWORD, T0

pytestmark = pytest.mark.slow
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
TIMEOUT = 15_000


def push(site: LiveSite, seed: int, seconds: float, *objects, camera: str = "lanting-gate") -> dict:
    body, image = scene_png(seed, objects)
    site.detector.register(image, detections(*objects))
    with site.api() as api:
        response = api.post(
            f"/api/v1/cameras/{camera}/frames",
            content=body,
            headers={"Authorization": f"Bearer {site.keys['gateway']}", "Content-Type": "image/png"},
            params={"captured_at": (T0 + timedelta(seconds=seconds)).isoformat()},
        )
    assert response.status_code == 201, response.text
    return response.json()


BIG_CAR = ("car", "vehicle", (100, 120, 200, 170))  # 320x180 frames: ground point (150, 170) in the fire lane


def open_hazard(site: LiveSite, seed: int, start: float = 0, obj: tuple = BIG_CAR) -> int:
    for i, dt in enumerate((0, 150)):
        push(site, seed + i, start + dt, obj)
    opened = push(site, seed + 2, start + 300, obj)["hazards"]
    assert opened and opened[0]["change"] == "opened", opened
    return opened[0]["hazard_id"]


def new_page(browser, site: LiveSite, viewport=DESKTOP, lang: str | None = None):  # noqa: F811
    context = browser.new_context(viewport=viewport, base_url=site.base)
    context.set_default_timeout(TIMEOUT)
    if lang:
        context.add_cookies([{"name": "cw_lang", "value": lang, "url": site.base}])
    return context.new_page()


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/web/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def status_of(site: LiveSite, hazard_id: int) -> dict:
    from service.auth.keys import create_key

    with site.runtime.db.session() as session:
        key = create_key(session, "check", "admin")
    with site.api() as api:
        return api.get(f"/api/v1/hazards/{hazard_id}", headers={"Authorization": f"Bearer {key}"}).json()


def test_log_in_review_and_dismiss_a_hazard(live: LiveSite, browser) -> None:  # noqa: F811
    hazard_id = open_hazard(live, 1)
    page = new_page(browser, live)
    page.goto("/web/hazards")
    assert "/web/login" in page.url  # not logged in: sent to the login page
    shot(page, "login-zh")
    sign_in(page, "police", "not-the-password")
    assert page.locator("#login-error").is_visible()
    sign_in(page, "police")
    page.wait_for_url(re.compile(r"/web/hazards"))
    assert page.locator("html").get_attribute("lang") == "zh-CN"  # Chinese by default
    item = page.locator(f".qitem[data-id='{hazard_id}']")
    assert item.is_visible()
    shot(page, "queue-zh")
    item.click()
    page.wait_for_url(re.compile(rf"/web/hazards/{hazard_id}\?"))
    page.wait_for_function("document.getElementById('evidence-img').naturalWidth > 0")
    page.locator("#first-frame img").scroll_into_view_if_needed()  # lazy: loads when seen
    page.wait_for_function("document.querySelector('#first-frame img').naturalWidth > 0")
    assert page.locator("#first-frame img").evaluate("img => img.naturalWidth") == 320
    shot(page, "hazard-zh")
    page.keyboard.press("o")  # original, and our own overlay appears over it
    assert page.locator("#evidence-img").get_attribute("src").endswith("/evidence/original")
    assert page.locator(".viewer .ov-main").is_visible()
    assert page.locator(".viewer .ov-box").count() == 1
    page.keyboard.press("d")
    assert page.evaluate("document.activeElement.id") == "dismiss-reason"
    page.select_option("#dismiss-reason", "false_positive")
    page.fill("#dismiss-note", "shadow of the gate")
    page.press("#dismiss-note", "Enter")
    page.wait_for_selector("#flash")
    detail = status_of(live, hazard_id)
    assert detail["status"] == "dismissed"
    assert detail["dismiss_reason"] == "false_positive: shadow of the gate"
    assert detail["history"][-1]["actor"] == "police:police"
    assert page.locator("#status").inner_text() == "已驳回"


def test_keyboard_triage_confirms_and_moves_to_the_next(live: LiveSite, browser) -> None:  # noqa: F811
    cars = (("car", "vehicle", (20, 120, 90, 170)), ("car", "vehicle", (220, 120, 300, 170)))
    for i, t in enumerate((0, 150)):
        push(live, 10 + i, t, *cars)
    older, newer = sorted(x["hazard_id"] for x in push(live, 12, 300, *cars)["hazards"])
    page = new_page(browser, live, lang="en")
    sign_in(page, "police")
    page.goto(f"/web/hazards/{newer}?status=active")
    page.keyboard.press("c")
    page.wait_for_url(re.compile(rf"/web/hazards/{older}\?"))  # confirmed, and on to the next in the queue
    assert f"#{newer} confirmed" in page.locator("#flash").inner_text()
    assert status_of(live, newer)["confirmed"] is True
    page.keyboard.press("k")
    page.wait_for_url(re.compile(rf"/web/hazards/{newer}\?"))
    page.keyboard.press("j")
    page.wait_for_url(re.compile(rf"/web/hazards/{older}\?"))
    page.keyboard.press("?")
    assert page.locator("#help").is_visible()
    shot(page, "hazard-help-en")


def test_draw_a_zone_and_the_next_frame_obeys_it(live: LiveSite, browser) -> None:  # noqa: F811
    push(live, 30, 0, BIG_CAR)  # a car in a zone: this frame's image is kept, the editor draws on it
    page = new_page(browser, live, lang="en")
    sign_in(page, "lanting")
    page.goto("/web/cameras")
    shot(page, "cameras-en")
    page.click("#camera-lanting-gate a.button")
    page.wait_for_selector("#editor-image")
    page.wait_for_function("document.querySelector('#editor-image').naturalWidth > 0")
    page.click("#add-zone")
    box = page.locator("#editor-svg").bounding_box()
    corners = [(0.55, 0.10), (0.95, 0.10), (0.95, 0.28), (0.55, 0.28)]
    for x, y in corners:
        page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])
    page.keyboard.press("Enter")
    assert page.locator("#zone-props").is_visible()
    page.fill("#prop-id", "loading-bay")
    page.select_option("#prop-type", "safety_exit")
    page.fill("#prop-dwell", "30")
    # drag one corner a little: the editor moves points with the mouse
    page.mouse.move(box["x"] + 0.95 * box["width"], box["y"] + 0.28 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.96 * box["width"], box["y"] + 0.29 * box["height"], steps=4)
    page.mouse.up()
    shot(page, "editor-drawing-en")
    page.click("#save")
    page.wait_for_selector("#editor-status.ok")
    assert "revision 1" in page.locator("#editor-status").inner_text()
    shot(page, "editor-saved-en")
    camera = live.runtime.sites.current().camera("lanting-gate")
    zone = camera.zone("loading-bay")
    assert zone.type.value == "safety_exit" and zone.dwell_seconds == 30
    assert zone.polygon[2] == pytest.approx((0.96, 0.29), abs=0.01)
    # the next frame: a scooter parked in the new zone is seen in it
    scooter = ("motorcycle", "two_wheeler", (230, 25, 260, 45))  # ground point (245, 45) = (0.77, 0.25)
    result = push(live, 31, 10, scooter)
    assert result["detections"][0]["zones"] == ["loading-bay"]


def test_property_manager_cannot_see_another_companys_hazard(live: LiveSite, browser) -> None:  # noqa: F811
    hazard_id = open_hazard(live, 40)
    frame_id = status_of(live, hazard_id)["latest_frame_id"]
    page = new_page(browser, live, lang="en")
    sign_in(page, "huayuan")
    page.wait_for_url(re.compile(r"/web/hazards"))
    assert page.locator(".qitem").count() == 0
    for url in (f"/web/hazards/{hazard_id}", "/web/cameras/lanting-gate"):
        response = page.goto(url)
        assert response.status == 404, url
    shot(page, "not-found-en")
    for url in (
        f"/api/v1/hazards/{hazard_id}",
        f"/api/v1/hazards/{hazard_id}/evidence/original",
        f"/web/frames/{frame_id}",
    ):
        assert page.request.get(url).status == 404, url
    page.goto("/web/cameras")
    assert page.locator("#camera-lanting-gate").count() == 0
    assert page.locator("#camera-huayuan-lane").count() == 1


def test_state_changes_without_the_csrf_token_are_refused(live: LiveSite, browser) -> None:  # noqa: F811
    hazard_id = open_hazard(live, 50)
    page = new_page(browser, live, lang="en")
    sign_in(page, "police")
    page.goto(f"/web/hazards/{hazard_id}")
    refused = page.evaluate(
        """async (id) => (await fetch(`/web/hazards/${id}/confirm`, {method: 'POST',
            headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: 'note=x'})).status""",
        hazard_id,
    )
    assert refused == 403
    api = page.evaluate(
        "async (id) => (await fetch(`/api/v1/hazards/${id}/confirm`, {method: 'POST'})).status", hazard_id
    )
    assert api == 403  # the cookie alone does not authorise a state change through the API either
    page.evaluate("document.querySelector('#form-confirm input[name=csrf_token]').value = 'forged'")
    page.click("#do-confirm")
    page.wait_for_selector(".error-page")
    shot(page, "csrf-refused-en")
    assert status_of(live, hazard_id)["confirmed"] is False
    allowed = page.evaluate(
        """async (id) => (await fetch(`/api/v1/hazards/${id}/confirm`, {method: 'POST',
            headers: {'X-CSRF-Token': document.body.dataset.csrf}})).status""",
        hazard_id,
    )
    assert allowed == 200 and status_of(live, hazard_id)["confirmed"] is True


def test_pages_fit_a_phone_in_both_languages(live: LiveSite, browser) -> None:  # noqa: F811
    hazard_id = open_hazard(live, 60)
    for lang in ("zh", "en"):
        page = new_page(browser, live, viewport=PHONE, lang=lang)
        sign_in(page, "admin")
        page.wait_for_url(re.compile(r"/web/hazards"))
        for name, url in (
            ("queue", "/web/hazards"),
            ("hazard", f"/web/hazards/{hazard_id}"),
            ("cameras", "/web/cameras"),
            ("editor", "/web/cameras/lanting-gate"),
            ("audit", "/web/audit"),
        ):
            page.goto(url)
            page.wait_for_load_state("load")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 1, f"{name} ({lang}) is {overflow}px wider than a phone"
            shot(page, f"phone-{name}-{lang}")
        page.context.close()
    page = new_page(browser, live, lang="en")
    sign_in(page, "admin")
    page.goto("/web/audit")
    assert page.locator("#audit-table").is_visible()
    shot(page, "audit-en")
    page.goto(f"/web/hazards/{hazard_id}")
    page.click("a[lang=zh]")  # the language switch keeps you on the page
    page.wait_for_url(re.compile(rf"/web/hazards/{hazard_id}"))
    assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_boxes_no_detector_knows_are_reviewed_like_any_hazard(live: LiveSite, browser) -> None:  # noqa: F811
    """The static-object model alone (the scripted detector sees nothing) finds boxes left in the fire lane
    of a real-photo sequence; the reviewer sees them named, boxed on the evidence, and can dismiss them."""
    import io

    from PIL import Image

    from datasets.static_sequences import build

    sequence = build("boxes_day")
    opened = []
    for i, frame in enumerate(sequence.frames):
        buffer = io.BytesIO()
        Image.fromarray(frame[:, :, ::-1]).save(buffer, format="PNG", compress_level=1)
        with live.api() as api:
            response = api.post(
                "/api/v1/cameras/lanting-gate/frames",
                content=buffer.getvalue(),
                headers={"Authorization": f"Bearer {live.keys['gateway']}", "Content-Type": "image/png"},
                params={"captured_at": (T0 + timedelta(seconds=30 * i)).isoformat()},
            )
        assert response.status_code == 201, response.text
        opened += [c for c in response.json()["hazards"] if c["change"] == "opened"]
    assert [c["category"] for c in opened] == ["clutter"]  # the fire lane's 300 s dwell, then one hazard
    page = new_page(browser, live, lang="en")
    sign_in(page, "police")
    page.goto(f"/web/hazards/{opened[0]['hazard_id']}")
    page.wait_for_function("document.querySelector('#evidence-img').naturalWidth > 0")
    assert "unknown object" in page.locator(".facts").inner_text()
    shot(page, "hazard-unknown-object-en")
