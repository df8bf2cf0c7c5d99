"""The public /report page in headless Chromium: a resident files a report with a photo from a phone (zh),
sees the tracking code and the status (never the contact), and the compound's property manager accepts it on
the hazard page. Screenshots at 390x844 and desktop size go to test-output/web/."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.store.report_models import ResidentReport
from tests.api.conftest import Harness
from tests.intake.support import bus_jpg
from tests.web.live import LiveSite, browser, live, shot  # noqa: F401  (fixtures)
from tests.web.test_browser import DESKTOP, PHONE, new_page, sign_in, status_of

PHONE_NUMBER = "13900139000"


def fill_report(page, photo: bytes | None = None) -> None:
    page.select_option("#service_code", "stairwell_storage")
    page.select_option("#compound", "lanting")
    page.fill("#address_string", "3号楼东侧楼梯间")
    page.fill("#description", "楼道里堆满了纸箱和旧家具，已经堵了一个星期。")
    if photo is not None:
        page.set_input_files("#media", {"name": "bus.jpg", "mimeType": "image/jpeg", "buffer": photo})
    page.fill("input[name=last_name]", "李")
    page.fill("input[name=phone]", PHONE_NUMBER)


def test_a_resident_reports_from_a_phone_and_the_company_accepts(live: LiveSite, browser) -> None:  # noqa: F811
    assert PHONE == {"width": 390, "height": 844}
    page = new_page(browser, live, viewport=PHONE)
    page.goto("/report")
    assert page.locator("h1").inner_text() == "举报消防安全隐患"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the form is {width} px wide on a 390 px phone"
    shot(page, "report-phone-zh")
    fill_report(page, bus_jpg())
    page.click("#report-submit")
    page.wait_for_url(re.compile(r"/report/track\?code="))
    code = page.locator("#tracking-code").inner_text().strip()
    assert re.fullmatch(r"[2-9A-Z]{4}(-[2-9A-Z]{4}){3}", code), code
    assert "等待审核" in page.locator("#report-status").inner_text()
    assert PHONE_NUMBER not in page.content() and "/evidence/" not in page.content()
    shot(page, "report-phone-zh-received")

    with live.runtime.db.session() as session:
        hazard_id = session.scalars(select(ResidentReport.hazard_id).where(ResidentReport.tracking_code == code)).one()
    assert status_of(live, hazard_id)["status"] == "pending_review"

    staff = new_page(browser, live, viewport=DESKTOP, lang="en")
    sign_in(staff, "lanting")
    staff.goto(f"/web/hazards/{hazard_id}")
    assert staff.locator("#do-accept").is_visible() and staff.locator("#form-reject").is_visible()
    shot(staff, "report-moderation-desktop-en")
    staff.click("#do-accept")
    staff.wait_for_selector("#flash")
    assert status_of(live, hazard_id)["status"] == "open"

    page.goto(f"/report/track?code={code.lower()}")  # codes are read case-insensitively
    assert "处理中" in page.locator("#report-status").inner_text()
    assert PHONE_NUMBER not in page.content()


def test_the_form_in_english_on_a_desktop_even_when_signed_in(live: LiveSite, browser) -> None:  # noqa: F811
    page = new_page(browser, live, viewport=DESKTOP)
    sign_in(page, "huayuan")  # a staff session cookie must not make the public form ask for a CSRF token
    page.goto("/report")
    page.click(".langs a[lang=en]")
    page.wait_for_url(re.compile(r"/report$"))
    assert page.locator("h1").inner_text() == "Report a fire-safety hazard"
    page.select_option("#service_code", "blocked_exit")
    page.select_option("#compound", "lanting")
    page.fill("#address_string", "Building 1, north exit")
    page.click("#report-submit")  # no description: the browser stops it, so remove the requirement
    page.evaluate("document.querySelector('#description').removeAttribute('required')")
    page.click("#report-submit")
    assert page.locator("#report-error").inner_text() == "Please describe what you saw."
    assert page.locator("#address_string").input_value() == "Building 1, north exit"  # kept
    shot(page, "report-desktop-en-error")
    page.fill("#description", "The exit door is chained shut.")
    page.click("#report-submit")
    page.wait_for_url(re.compile(r"/report/track\?code="))
    shot(page, "report-desktop-en-received")
    page.goto("/report/track?code=ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert page.locator("#report-unknown").is_visible()


def test_the_page_form_is_limited_and_needs_no_session(make_harness) -> None:
    from service.config.report_settings import ReportSettings

    h: Harness = make_harness(reports=ReportSettings(per_client=1))
    client: TestClient = h.client
    form = {"service_code": "hydrant_blocked", "compound": "huayuan", "address_string": "B2", "description": "boxes"}
    first = client.post("/report", data=form, follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"].startswith("/report/track?code=")
    second = client.post("/report", data=form, follow_redirects=False)
    assert second.status_code == 429 and "Retry-After" in second.headers
    bad = client.post("/report", data=form | {"compound": "atlantis"})
    assert bad.status_code == 422
    with client.app.state.runtime.db.session() as session:
        assert len(session.scalars(select(ResidentReport)).all()) == 1
