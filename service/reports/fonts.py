"""The CJK font the reports' charts and PDF are drawn with (found by service/config/fonts.py).

Why a module: the default fonts (DejaVu, Helvetica) have no Chinese glyphs, so without this every label would
come out as empty boxes; a missing font says how to install it instead of drawing boxes. The finder is shared
with the evidence pictures (service/vision/drawing.py); this adds what matplotlib needs.
Nothing here changes matplotlib's global rcParams: the charts pass the font to each text they draw.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

from service.config.fonts import FAMILIES, INSTALL_HINT, CjkFontMissingError, find_cjk_font

__all__ = ["FAMILIES", "INSTALL_HINT", "ReportFontMissingError", "chart_font", "cjk_font_path"]

ReportFontMissingError = CjkFontMissingError  # the reports' name for it

_added = threading.Lock()


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """The file of the first installed family of FAMILIES (a .ttc or .ttf/.otf)."""
    return find_cjk_font(FAMILIES, "the reports")


@lru_cache(maxsize=1)
def chart_font() -> FontProperties:
    """The font the charts pass to every text they draw (titles, tick labels, legends)."""
    path = cjk_font_path()
    with _added:  # addfont only adds to matplotlib's registry; it changes no default
        font_manager.fontManager.addfont(str(path))
    return FontProperties(fname=str(path))
