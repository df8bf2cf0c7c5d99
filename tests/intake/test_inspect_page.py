"""The inspection page: recorded through the form (TestClient, SQLite and PostgreSQL), refusals shown on the
form with nothing stored, and the phone-first page in Chromium with the model's proposal drawn on the photo
(screenshots in test-output/web/)."""

from __future__ import annotations

import re

import pytest

from tests.api.conftest import Harness
from tests.intake.support import BUS_BOX, bus_jpg, decoded, photo_png, stored
from tests.support import detections
from tests.web.live import LiveSite, browser, live, shot  # noqa: F401  (fixtures)
from tests.web.support import PASSWORD, add_people, login

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def _post(h: Harness, csrf: str, photos: list[bytes], after: bytes | None = None, **fields: str):
    data = {"csrf_token": csrf, "kind": "blocked_exit", "compound": "lanting", "location": "B3 exit"} | fields
    files = [("photo", (f"p{i}.jpg", p, "image/jpeg")) for i, p in enumerate(photos)]
    if after is not None:
        files.append(("after_photo", ("after.png", after, "image/png")))
    return h.client.post("/web/inspect", data=data, files=files or None, follow_redirects=False)


def test_the_form_records_an_inspection_and_goes_to_its_page(make_harness) -> None:
    h = make_harness()
    add_people(h)
    csrf = login(h.client, "lanting")
    page = h.client.get("/web/inspect")
    assert page.status_code == 200
    assert 'accept="image/*" capture="environment"' in page.text
    assert 'href="/web/inspect"' in page.text  # in the navigation
    assert 'value="huayuan"' not in page.text  # only the person's own compounds
    answer = _post(h, csrf, [bus_jpg(), photo_png(3)], after=photo_png(4), fixed_on_the_spot="true")
    assert answer.status_code == 303, answer.text
    hazard_id = int(re.fullmatch(r"/web/hazards/(\d+)", answer.headers["location"]).group(1))
    shown = h.client.get(answer.headers["location"])
    assert shown.status_code == 200 and "B3 exit" in shown.text
    detail = h.client.get(f"/api/v1/hazards/{hazard_id}", headers=h.headers("lanting")).json()
    assert (detail["source"], detail["status"], detail["kind"]) == ("self_inspection", "rectified", "blocked_exit")
    assert [e["kind"] for e in detail["evidence"]] == ["original", "annotated", "thumbnail", "photo-2", "after-1"]


@pytest.mark.parametrize(
    ("fields", "photos", "code", "message"),
    [
        ({"fixed_on_the_spot": "true"}, "bus", 422, "inspect.error.missing_after_photo"),
        ({}, "none", 422, "inspect.error.missing_photo"),
        ({"compound": "huayuan"}, "bus", 404, "inspect.error.unknown_compound"),
        ({"kind": "camera_offline"}, "bus", 422, "inspect.error.bad_kind"),
    ],
)
def test_a_refused_form_says_why_and_stores_nothing(make_harness, fields, photos, code, message) -> None:
    from service.web.i18n import translator

    h = make_harness()
    add_people(h)
    csrf = login(h.client, "lanting")
    answer = _post(h, csrf, [bus_jpg()] if photos == "bus" else [], **fields)
    assert answer.status_code == code
    assert 'id="inspect-error"' in answer.text
    assert translator("zh")(message) in answer.text
    assert 'value="B3 exit"' in answer.text  # what was typed is kept
    assert stored(h) == (0, 0)


def test_the_form_needs_the_csrf_token(make_harness) -> None:
    h = make_harness()
    add_people(h)
    login(h.client, "police")
    assert _post(h, "wrong", [bus_jpg()]).status_code == 403
    assert stored(h) == (0, 0)


def _sign_in(page, username: str) -> None:
    page.goto("/web/login?next=/web/inspect")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/web/inspect")


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_phone_page_in_a_browser(live: LiveSite, browser, tmp_path, lang: str) -> None:  # noqa: F811
    from playwright.sync_api import expect

    live.detector.register(decoded(bus_jpg()), detections(("bus", "vehicle", BUS_BOX)))
    photo = tmp_path / "bus.jpg"
    photo.write_bytes(bus_jpg())
    context = browser.new_context(viewport=PHONE, base_url=live.base, device_scale_factor=2, is_mobile=True)
    context.set_default_timeout(15_000)
    context.add_cookies([{"name": "cw_lang", "value": lang, "url": live.base}])
    page = context.new_page()
    _sign_in(page, "lanting")
    shot(page, f"phone-inspect-empty-{lang}")
    assert page.locator("#photo").get_attribute("capture") == "environment"
    page.set_input_files("#photo", str(photo))
    page.click("#propose")
    expect(page.locator("#preview-boxes rect")).to_have_count(1)  # the bus, drawn over the photo
    assert page.locator("#kind").input_value() == "vehicle_in_fire_lane"
    assert page.locator("#proposal").is_visible()
    page.fill("#location", "北门消防车道 North gate fire lane")
    page.fill("#description", "Coach parked across the lane")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at phone width ({width} px)"
    shot(page, f"phone-inspect-proposed-{lang}")
    page.click("#submit")
    page.wait_for_url(re.compile(r".*/web/hazards/\d+$"))
    hazard_id = int(page.url.rsplit("/", 1)[1])
    shot(page, f"phone-inspect-recorded-{lang}")
    with live.runtime.db.session() as session:
        from service.store import models as m

        hazard = session.get(m.HazardEvent, hazard_id)
        assert (hazard.kind, hazard.source, hazard.location) == (
            "vehicle_in_fire_lane",
            "self_inspection",
            "北门消防车道 North gate fire lane",
        )
        assert hazard.box == list(BUS_BOX)
    context.close()

    desktop = browser.new_context(viewport=DESKTOP, base_url=live.base)
    desktop.set_default_timeout(15_000)
    desktop.add_cookies([{"name": "cw_lang", "value": lang, "url": live.base}])
    page = desktop.new_page()
    _sign_in(page, "police")
    page.check("#fixed")
    assert page.locator("#after-photo").is_visible()
    page.set_input_files("#photo", str(photo))
    shot(page, f"inspect-desktop-{lang}")
    desktop.close()
