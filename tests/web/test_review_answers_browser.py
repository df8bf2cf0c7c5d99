"""Answers and undo in a real browser, desktop and phone, zh and en: the property company sends a hazard for
review, the police see it flagged, and the Undo button (with the time left) follows a confirm, on the hazard
itself and on the next one the triage moved to. Screenshots: test-output/web/review-*.png."""

from __future__ import annotations

import re

import pytest

from tests.web.live import LiveSite, browser, live, shot  # noqa: F401  (fixtures)
from tests.web.test_browser import DESKTOP, PHONE, new_page, push, sign_in

pytestmark = pytest.mark.slow
CARS = [("car", "vehicle", (20 + 150 * n, 120, 110 + 150 * n, 170)) for n in range(2)]
WORDS = {
    "zh": ("待您复核", "物业答复：请复核", "撤销", "可撤销"),
    "en": ("Awaiting your review", "Their answer: Please review", "Undo", "left to undo"),
}


def two_hazards(site: LiveSite) -> list[int]:
    for i, t in enumerate((0, 150)):
        push(site, 400 + i, t, *CARS)
    return sorted(x["hazard_id"] for x in push(site, 402, 300, *CARS)["hazards"])


def test_dispute_and_undo_on_desktop_and_phone_in_both_languages(live: LiveSite, browser) -> None:  # noqa: F811
    disputed, confirmed = two_hazards(live)
    pm = new_page(browser, live, lang="en")
    sign_in(pm, "lanting")
    pm.wait_for_url(re.compile(r"/web/hazards"))
    pm.goto(f"/web/hazards/{disputed}")
    pm.locator("#form-dispute").evaluate("form => form.closest('details').open = true")
    pm.select_option("#dispute-reason", "please_review")
    pm.fill("#dispute-note", "registered van, bay 3")
    pm.click("#do-dispute")
    pm.wait_for_url(re.compile(r"done=dispute"))
    pm.context.close()

    police = new_page(browser, live, lang="en")
    sign_in(police, "police")
    police.wait_for_url(re.compile(r"/web/hazards"))
    police.goto(f"/web/hazards/{confirmed}?status=active&order=newest")
    police.click("#do-confirm")
    police.wait_for_url(re.compile(rf"/web/hazards/{disputed}\?.*done_id={confirmed}"))  # triage moved on
    moved_to = police.url.removeprefix(live.base)
    police.context.close()

    for lang, (awaiting, answer, undo, left) in WORDS.items():
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page = new_page(browser, live, viewport=viewport, lang=lang)
            sign_in(page, "police")
            page.wait_for_url(re.compile(r"/web/hazards"))
            page.goto(moved_to)
            assert awaiting in page.locator("#disputed").inner_text()
            assert answer in page.locator("#disputed").inner_text()
            assert undo in page.locator("#form-undo-previous").inner_text()
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
            shot(page, f"review-disputed-{name}-{lang}")
            page.goto(f"/web/hazards/{confirmed}")
            assert left in page.locator("#undo-left").inner_text()
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
            shot(page, f"review-undo-{name}-{lang}")
            page.context.close()
