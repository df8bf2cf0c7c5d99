"""The accounts page in a real browser against a real server: an admin revokes a key and disables a person
through the page, and both are refused at once. Screenshots (desktop and phone, zh and en): test-output/web/."""

from __future__ import annotations

import pytest

from service.auth.keys import create_key
from tests.web.live import LiveSite, browser, live, shot  # noqa: F401  (fixtures)
from tests.web.test_browser import PHONE, new_page, sign_in

pytestmark = pytest.mark.slow


def test_admin_revokes_a_key_and_disables_a_person_through_the_page(live: LiveSite, browser) -> None:  # noqa: F811
    with live.runtime.db.session() as session:
        police_key = create_key(session, "ps-desk", "police", "ps-chengguan")
    prefix = police_key.split("_")[1]
    with live.api() as api:
        assert api.get("/api/v1/hazards", headers={"Authorization": f"Bearer {police_key}"}).status_code == 200

    victim = new_page(browser, live)
    sign_in(victim, "lanting")
    victim.wait_for_url("**/web/hazards")

    page = new_page(browser, live, lang="zh")
    sign_in(page, "admin")
    page.click("#nav-accounts")
    page.wait_for_url("**/web/admin/accounts")
    assert page.locator("#user-lanting").is_visible() and page.locator(f"#key-{prefix}").is_visible()
    shot(page, "accounts-desktop-zh")

    page.click(f"#revoke-{prefix}")  # the box is not ticked: the browser asks for it, nothing is sent
    assert page.locator(f"#revoke-{prefix}").is_visible()
    page.check(f"#sure-{prefix}")
    page.click(f"#revoke-{prefix}")
    page.wait_for_selector("#accounts-done")
    assert prefix in page.locator("#accounts-done").inner_text()
    with live.api() as api:
        assert api.get("/api/v1/hazards", headers={"Authorization": f"Bearer {police_key}"}).status_code == 401

    page.click("#disable-lanting")
    page.wait_for_selector("#enable-lanting")
    assert "lanting" in page.locator("#accounts-done").inner_text()
    shot(page, "accounts-done-desktop-zh")
    victim.reload()
    assert "/web/login" in victim.url  # their open session ended

    english = new_page(browser, live, lang="en")
    sign_in(english, "admin")
    english.goto("/web/admin/accounts")
    assert english.locator("h1").inner_text() == "Accounts and keys"
    shot(english, "accounts-desktop-en")

    for lang in ("zh", "en"):
        phone = new_page(browser, live, viewport=PHONE, lang=lang)
        sign_in(phone, "admin")
        phone.goto("/web/admin/accounts")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{lang}: the page scrolls sideways ({width}px)"
        shot(phone, f"accounts-phone-{lang}")
    phone.click("#reset-county")
    phone.wait_for_selector("#new-password")
    assert len(phone.locator("#new-password").inner_text()) >= 10
    shot(phone, "accounts-reset-phone-en")
