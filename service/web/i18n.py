"""The reader's language on the pages; the catalogue itself is service/locale, shared with the reports."""

from __future__ import annotations

from fastapi import Request

from service.locale import Translator, catalogue, translator
from service.web.config import LANGUAGES, WebSettings

__all__ = ["Translator", "catalogue", "language_of", "translator"]


def language_of(request: Request, web: WebSettings) -> str:
    chosen = request.cookies.get("cw_lang")
    return chosen if chosen in LANGUAGES else web.default_language
