"""The CJK font the reports' charts and PDF are drawn with, found among the installed fonts.

Why a module: the default fonts (DejaVu, Helvetica) have no Chinese glyphs, so without this every label would
come out as empty boxes; the font must be installed on the machine (Debian: fonts-wqy-microhei), never
downloaded at run time, and a missing one must say how to install it instead of drawing boxes.
Nothing here changes matplotlib's global rcParams: the charts pass the font to each text they draw.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager
from matplotlib.font_manager import FontProperties

FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC")
INSTALL_HINT = "install fonts-wqy-microhei (apt-get install fonts-wqy-microhei)"

_added = threading.Lock()


class ReportFontMissingError(RuntimeError):
    """No CJK font is installed, so the report cannot show Chinese text."""


@lru_cache(maxsize=1)
def cjk_font_path() -> Path:
    """The file of the first installed family of FAMILIES (a .ttc or .ttf/.otf)."""
    for family in FAMILIES:
        try:
            found = font_manager.findfont(FontProperties(family=family), fallback_to_default=False)
        except ValueError:
            continue
        path = Path(found)
        if path.is_file():
            return path
    looked = ", ".join(FAMILIES)
    raise ReportFontMissingError(f"no CJK font found for the reports (looked for {looked}): {INSTALL_HINT}")


@lru_cache(maxsize=1)
def chart_font() -> FontProperties:
    """The font the charts pass to every text they draw (titles, tick labels, legends)."""
    path = cjk_font_path()
    with _added:  # addfont only adds to matplotlib's registry; it changes no default
        font_manager.fontManager.addfont(str(path))
    return FontProperties(fname=str(path))
