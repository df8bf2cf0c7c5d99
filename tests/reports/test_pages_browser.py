"""The dashboard and the reports in a real browser (Debian's Chromium), desktop and phone, both languages:
the server-drawn charts load under the strict CSP, nothing is wider than a phone. Screenshots: test-output/web/."""

from __future__ import annotations

import re

import pytest

from service.reports.periods import find_week
from service.store.campaign_models import COUNTY
from tests.reports.support import TWO_WEEKS, seed
from tests.web.live import LiveSite, browser, live, shot  # noqa: F401  (fixtures)
from tests.web.test_browser import DESKTOP, PHONE, new_page, sign_in

pytestmark = pytest.mark.slow


def test_dashboard_and_reports_render_on_desktop_and_phone(live: LiveSite, browser) -> None:  # noqa: F811
    site = live.runtime.sites.current()
    seed(live.runtime, site, TWO_WEEKS)
    made = live.runtime.reports.run_once(find_week(site.campaign, site.zone, "2026-W46").ends_at)
    county = next(r.report_id for r in made if r.unit_id == COUNTY and r.period == "2026-W46")
    refused: list[str] = []  # the browser's CSP complaints, from every page
    for viewport, device in ((DESKTOP, "desktop"), (PHONE, "phone")):
        for lang in ("zh", "en"):
            page = new_page(browser, live, viewport=viewport, lang=lang)
            page.on("console", lambda message: refused.append(message.text) if "Security" in message.text else None)
            sign_in(page, "county")
            page.wait_for_url(re.compile(r"/web/hazards"))
            for name, url in (
                ("dashboard", "/web/dashboard"),
                ("reports", "/web/reports"),
                ("report", f"/web/reports/{county}"),
            ):
                page.goto(url)
                page.wait_for_load_state("load")
                images = page.evaluate("[...document.images].map(i => i.complete && i.naturalWidth > 0)")
                assert images and all(images), f"{name} ({device}, {lang}): a chart did not load"
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 1, f"{name} ({device}, {lang}) is {overflow}px wider than the window"
                shot(page, f"campaign-{name}-{device}-{lang}")
            assert refused == []
            page.context.close()
