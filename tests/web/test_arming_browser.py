"""In a real browser: an editor gives a zone its own arming schedule (weekdays 06:00-10:00, a market), saves
it, and the editor shows it after a reload, desktop and phone, zh and en. Screenshots:
test-output/web/arming-*.png."""

from __future__ import annotations

import pytest

from tests.web.live import LiveSite, browser, live, shot  # noqa: F401  (fixtures)
from tests.web.test_browser import DESKTOP, PHONE, new_page, sign_in

pytestmark = pytest.mark.slow

SUMMARY = {
    "en": "Disarmed Mon Tue Wed Thu Fri, 06:00–10:00",
    "zh": "撤防 周一 周二 周三 周四 周五 06:00–10:00",
}


def fits(page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, f"{page.url} is {overflow}px wider than the window"


def open_zone(page, zone: str) -> None:
    page.goto("/web/cameras/lanting-gate")
    page.click(f"#shape-list button[data-kind=zone][data-index='{zone}']")
    page.wait_for_selector("#zone-props:not([hidden])")


def test_a_zone_schedule_is_set_saved_and_shown(live: LiveSite, browser) -> None:  # noqa: F811
    page = new_page(browser, live, lang="en")
    sign_in(page, "lanting")
    page.wait_for_url("**/web/hazards**")
    open_zone(page, "0")
    assert page.locator("#arming-summary").inner_text() == "Always armed: hazards open at any time."
    assert "As saved, now (" in page.locator("#arming-now").inner_text()
    page.select_option("#prop-arming-mode", "own")
    page.click("#arming-add")
    window = page.locator("#arming-windows li").first
    for day in ("sat", "sun"):
        window.locator(f"input[value={day}]").uncheck()
    window.locator(".arming-from").fill("06:00")
    window.locator(".arming-to").fill("10:00")
    assert SUMMARY["en"] in page.locator("#arming-summary").inner_text()
    page.click("#save")
    page.wait_for_selector("#editor-status.ok")
    zone = live.runtime.sites.current().camera("lanting-gate").zone("fire-lane-north")
    assert zone.arming is not None and zone.arming.disarmed[0].days == ("mon", "tue", "wed", "thu", "fri")
    assert (zone.arming.disarmed[0].start, zone.arming.disarmed[0].end) == ("06:00", "10:00")
    page.context.close()

    for lang in ("zh", "en"):
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page = new_page(browser, live, viewport=viewport, lang=lang)
            sign_in(page, "lanting")
            page.wait_for_url("**/web/hazards**")
            open_zone(page, "0")
            assert page.locator("#prop-arming-mode").input_value() == "own"
            assert SUMMARY[lang] in page.locator("#arming-summary").inner_text()
            assert page.locator("#arming-windows li").count() == 1
            assert page.locator("#arming-clock").inner_text().endswith(("(UTC+08:00).", "（UTC+08:00）。"))
            badge = page.locator("#shape-list button[data-index='0'] .badge")
            assert badge.count() == 1
            fits(page)
            shot(page, f"arming-editor-{name}-{lang}")
            page.context.close()
