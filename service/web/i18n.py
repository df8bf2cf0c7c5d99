"""The pages' message catalogue (zh, en): one JSON file per language, same keys in both (a test checks).

`t("queue.title")` looks a message up; `t("queue.count", n=3)` fills `{n}`. An unknown key shows itself,
which the catalogue test turns into a failure before it can reach a page.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from fastapi import Request

from service.web.config import LANGUAGES, WebSettings

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
Translator = Callable[..., str]


@lru_cache(maxsize=len(LANGUAGES))
def catalogue(lang: str) -> dict[str, str]:
    return json.loads((LOCALE_DIR / f"{lang}.json").read_text(encoding="utf-8"))


def translator(lang: str) -> Translator:
    messages = catalogue(lang)

    def t(key: str, **values: object) -> str:
        text = messages.get(key, key)
        return text.format(**values) if values else text

    return t


def language_of(request: Request, web: WebSettings) -> str:
    chosen = request.cookies.get("cw_lang")
    return chosen if chosen in LANGUAGES else web.default_language
