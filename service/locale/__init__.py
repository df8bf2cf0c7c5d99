"""The message catalogue (zh, en) of everything people read: pages, reports, report messages.

One JSON file per language, `<lang>.json`, plus any `<lang>/<area>.json` beside it (one per part of the
desk, so parts are edited apart); the same keys in every language (a test checks) and no key twice.
`t("queue.title")` looks a message up; `t("queue.count", n=3)` fills `{n}`. An unknown key shows itself,
which the catalogue test turns into a failure before it reaches anyone. The pages (service/web) and the
campaign reports (service/reports) share it, so a kind of hazard has one name everywhere.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

LANGUAGES = ("zh", "en")
LOCALE_DIR = Path(__file__).resolve().parent
Translator = Callable[..., str]


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(lang: str) -> dict[str, str]:
    messages: dict[str, str] = json.loads((LOCALE_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    for part in sorted((LOCALE_DIR / lang).glob("*.json")):
        more = json.loads(part.read_text(encoding="utf-8"))
        twice = sorted(set(more) & set(messages))
        if twice:
            raise ValueError(f"{part.name}: keys already defined elsewhere in the {lang} catalogue: {twice}")
        messages.update(more)
    return messages


def translator(lang: str) -> Translator:
    messages = catalogue(lang)

    def t(key: str, **values: object) -> str:
        text = messages.get(key, key)
        return text.format(**values) if values else text

    return t
