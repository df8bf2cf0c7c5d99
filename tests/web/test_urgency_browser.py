"""The urgent-first queue and hazard page in a real browser, desktop and phone, zh and en: severity, the
running deadline, escalation and translated history are visible and nothing is wider than a phone.
Screenshots: test-output/web/urgency-*.png."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from service.delivery.escalation import EscalationScheduler
from service.store import models as m
from service.store.db import utcnow
from tests.web.live import LiveSite, browser, live, shot  # noqa: F401  (fixtures)
from tests.web.test_browser import DESKTOP, PHONE, new_page, push, sign_in

pytestmark = pytest.mark.slow
CARS = [("car", "vehicle", (20 + 90 * n, 120, 100 + 90 * n, 170)) for n in range(3)]


def urgent_hazards(site: LiveSite) -> list[int]:
    """Three hazards: one escalated and overdue, one due in 25 minutes, one major due in 3 hours."""
    for i, t in enumerate((0, 150)):
        push(site, 300 + i, t, *CARS)
    ids = sorted(x["hazard_id"] for x in push(site, 302, 300, *CARS)["hazards"])
    now = utcnow()
    with site.runtime.db.session() as session:
        dues = (now - timedelta(hours=2), now + timedelta(minutes=25), now + timedelta(hours=3))
        for hazard_id, due in zip(ids, dues, strict=True):
            hazard = session.get(m.HazardEvent, hazard_id)
            hazard.acknowledge_due_at, hazard.rectify_due_at = due, due + timedelta(days=1)
        session.get(m.HazardEvent, ids[2]).severity = "major"
    scheduler = EscalationScheduler(site.runtime.db, site.runtime.sites.current, site.runtime.writer)
    assert [e.hazard_id for e in scheduler.run_once(now)] == [ids[0]]
    return ids


def test_urgency_shows_on_desktop_and_phone_in_both_languages(live: LiveSite, browser) -> None:  # noqa: F811
    overdue, _soon, _later = urgent_hazards(live)
    words = {
        "zh": ("签收已超期", "已升级至第 1 级", "签收期限"),
        "en": ("acknowledgement overdue", "escalated, step 1", "acknowledge deadline"),
    }
    for lang, (late, climbed, history) in words.items():
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page = new_page(browser, live, viewport=viewport, lang=lang)
            sign_in(page, "police")
            page.wait_for_url(re.compile(r"/web/hazards"))
            page.goto("/web/hazards?order=due")
            first = page.locator("#queue li").first
            assert late in first.inner_text() and climbed in first.inner_text()
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
            shot(page, f"urgency-queue-{name}-{lang}")
            page.goto(f"/web/hazards/{overdue}")
            assert late in page.locator("#due-badges").inner_text()
            assert history in page.locator("#history").inner_text()
            assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 1
            shot(page, f"urgency-hazard-{name}-{lang}")
            page.context.close()
