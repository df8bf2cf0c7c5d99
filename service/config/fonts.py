"""Where the CJK font is: one finder for everything that draws Chinese (report charts and PDF, evidence pictures).

Why here: the default fonts (DejaVu, Helvetica, OpenCV's Hershey) have no Chinese glyphs, so without a CJK
font every label comes out as empty boxes. The font must be installed on the machine (Debian:
fonts-wqy-microhei), never downloaded at run time, and a missing one must say what was looked for and how to
install it. `config/` because both `vision/` and `reports/` may import it. `CLEARWAY_CJK_FONT` names a font
file (.ttc/.ttf/.otf) explicitly; otherwise each family's usual Debian path, then matplotlib's font registry.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

FAMILIES = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Noto Sans SC")
KNOWN_PATHS = {  # where Debian's packages put a family: found without building matplotlib's registry
    "WenQuanYi Micro Hei": Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),  # fonts-wqy-microhei
    "Noto Sans CJK SC": Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),  # fonts-noto-cjk
}
INSTALL_HINT = "install fonts-wqy-microhei (apt-get install fonts-wqy-microhei) or set CLEARWAY_CJK_FONT to a font file"


class CjkFontMissingError(RuntimeError):
    """No CJK font is installed (or the configured one is missing), so Chinese text cannot be drawn."""


class FontSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CLEARWAY_", env_file=None, extra="ignore")

    cjk_font: Path | None = Field(default=None, description="A CJK font file (.ttc/.ttf/.otf); default: found.")


def find_cjk_font(families: tuple[str, ...] = FAMILIES, purpose: str = "") -> Path:
    """The configured font file, else the file of the first installed family of `families`."""
    what = f" for {purpose}" if purpose else ""
    configured = FontSettings().cjk_font
    if configured is not None:
        if configured.is_file():
            return configured
        raise CjkFontMissingError(f"CLEARWAY_CJK_FONT={configured} is not a file{what}: {INSTALL_HINT}")
    known = [KNOWN_PATHS[f] for f in families if f in KNOWN_PATHS]
    for path in known:
        if path.is_file():
            return path
    from matplotlib import font_manager  # only when the usual files are absent: its registry is slow to build
    from matplotlib.font_manager import FontProperties

    for family in families:
        try:
            found = Path(font_manager.findfont(FontProperties(family=family), fallback_to_default=False))
        except ValueError:
            continue
        if found.is_file():
            return found
    looked = ", ".join([*families, *map(str, known)])
    raise CjkFontMissingError(f"no CJK font found{what} (looked for {looked}): {INSTALL_HINT}")
