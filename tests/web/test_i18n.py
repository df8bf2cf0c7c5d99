"""The message catalogue: both languages have the same keys, and every key the pages use exists."""

from __future__ import annotations

import re

from service.actions.hazards import DISMISS_REASONS
from service.auth.users import USER_ROLES
from service.config.campaign import WEEKDAYS
from service.config.site import ZoneType
from service.web.config import LANGUAGES
from service.web.history import LABELS
from service.web.i18n import catalogue
from service.web.pages import WEB_DIR
from service.web.routes.hazard import ERRORS, PAGE_ACTIONS
from service.web.views import ATTENTION, STATUSES

TEMPLATES = WEB_DIR / "templates"


def used_keys() -> set[str]:
    keys: set[str] = set()
    for path in TEMPLATES.glob("*.html"):
        keys |= set(re.findall(r"\bt\('([a-z_.]+[a-z_])'", path.read_text()))
    for path in WEB_DIR.rglob("*.py"):
        source = path.read_text()
        keys |= set(re.findall(r'PageError\(\d+, "([a-z_.]+)"', source))
        keys |= set(re.findall(r'_login_page\([^)]*?"(login\.[a-z_]+)"', source))
        keys |= set(re.findall(r'key="(error\.[a-z_]+)"', source))
    for script in ("editor.js", "arming.js"):
        keys |= set(re.findall(r'(?<![\w.])t\("([a-z_.]+[a-z_])"', (WEB_DIR / "static" / script).read_text()))
    keys |= {f"status.{s}" for s in (*STATUSES, "active", "all")}
    keys |= {f"filter.attention.{a}" for a in ATTENTION}
    keys |= {f"due.{stage}_{state}" for stage in ("acknowledge", "rectify") for state in ("within", "overdue")}
    keys |= {f"{LABELS['stage']}.{s}" for s in ("acknowledge", "rectify", "major")}
    keys |= {f"{LABELS['why']}.{w}" for w in ("gone", "left_zone", "camera_back")}
    keys |= {f"zone.{z.value}" for z in ZoneType} | {f"reason.{r}" for r in DISMISS_REASONS}
    keys |= {f"category.{c}" for c in ("vehicle", "two_wheeler", "clutter")} | {f"role.{r}" for r in USER_ROLES}
    keys |= {f"done.{a}" for a in (*PAGE_ACTIONS, "photo")} | {f"lang.{code}" for code in LANGUAGES}
    keys |= {f"error.action.{e}" for e in ERRORS}
    for path in (WEB_DIR.parent / "reports").rglob("*.py"):  # the campaign reports share the catalogue
        keys |= set(re.findall(r'\bt\(\s*"([a-z_.]+[a-z_])"', path.read_text()))
    keys |= {f"weekday.{day}" for day in WEEKDAYS}
    return keys


def test_languages_have_the_same_keys_and_placeholders() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) == set(en)
    for key in en:
        assert set(re.findall(r"\{(\w+)\}", zh[key])) == set(re.findall(r"\{(\w+)\}", en[key])), key
        assert zh[key].strip() and en[key].strip(), key


def test_every_key_the_pages_use_is_in_the_catalogue() -> None:
    keys = used_keys()
    assert len(keys) > 100
    missing = sorted(k for k in keys if k not in catalogue("en"))
    assert missing == []
