"""The building blocks of the report PDF: the embedded CJK font, paragraph styles, tables and chart images.

Why apart from report_pdf.py: the document reads top to bottom there, while the fiddly layout rules live here
(Chinese text wraps between any two characters, Latin text only at spaces; every cell is a Paragraph so long
names wrap inside their column; a table's header row repeats on each page it runs onto).
"""

from __future__ import annotations

import io
import threading
from collections.abc import Collection, Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Image, Paragraph, Table, TableStyle

from service.reports.display import text_columns
from service.reports.fonts import cjk_font_path

FONT = "ClearwayCJK"
CONTENT_WIDTH = 180 * mm  # A4 (210 mm) less 15 mm margins
INK = colors.HexColor("#1F2933")
MUTED = colors.HexColor("#52606D")
ACCENT = colors.HexColor("#0B4F8A")
HEAD = colors.HexColor("#DCE6F0")
STRIPE = colors.HexColor("#F4F7FA")
RULE = colors.HexColor("#B8C4CE")
ALERT_HEAD = colors.HexColor("#F6C7A8")
ALERT_ROW = colors.HexColor("#FDF0E6")
ALERT_INK = colors.HexColor("#A63D00")

_register = threading.Lock()


def font() -> str:
    """The CJK font's name, registered once from its file so that the PDF embeds (a subset of) it."""
    with _register:
        if FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT, str(cjk_font_path()), subfontIndex=0))
            pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT, italic=FONT, boldItalic=FONT)
    return FONT


def _style(name: str, size: float, leading: float, **extra: object) -> ParagraphStyle:
    values: dict[str, object] = {"textColor": INK, **extra}
    return ParagraphStyle(name, fontName=font(), fontSize=size, leading=leading, **values)


class Styles:
    """The report's paragraph styles; each has a twin that wraps Chinese text between characters."""

    def __init__(self) -> None:
        self.title = _style("title", 17, 23, textColor=ACCENT, spaceAfter=4)
        self.subtitle = _style("subtitle", 10, 14, textColor=MUTED)
        self.heading = _style("heading", 12, 16, textColor=ACCENT, spaceBefore=10, spaceAfter=5, keepWithNext=1)
        self.body = _style("body", 10, 15, spaceAfter=3)
        self.note = _style("note", 8, 11, textColor=MUTED, spaceBefore=2)
        self.cell = _style("cell", 8.5, 11)
        self.number = _style("number", 8.5, 11, alignment=TA_RIGHT)
        self.head = _style("head", 8.5, 11)
        self.head_number = _style("head_number", 8.5, 11, alignment=TA_RIGHT)
        self.alert = _style("alert", 8.5, 11, alignment=TA_RIGHT, textColor=ALERT_INK)
        self._cjk: dict[str, ParagraphStyle] = {}

    def para(self, text: str, style: ParagraphStyle) -> Paragraph:
        """A paragraph of plain `text` (escaped), wrapping Chinese text between characters (Latin text keeps
        wrapping at spaces, so English words are never cut)."""
        if text_columns(text) > len(text):  # some character is a wide (CJK) one
            if style.name not in self._cjk:
                self._cjk[style.name] = ParagraphStyle(f"{style.name}_cjk", parent=style, wordWrap="CJK")
            style = self._cjk[style.name]
        return Paragraph(escape(text), style)


def table(
    styles: Styles,
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths_mm: Sequence[float],
    numeric: Collection[int] | None = None,
    alert_column: int | None = None,
) -> Table:
    """A table whose `numeric` columns (default: all but the first) are right-aligned; `alert_column` is
    highlighted (the 通报 table's overdue count), and so is the whole table when one is given."""
    numbers = set(range(1, len(header)) if numeric is None else numeric)

    def cell(text: str, column: int, head: bool = False) -> Paragraph:
        if head:
            return styles.para(text, styles.head_number if column in numbers else styles.head)
        if column == alert_column:
            return styles.para(text, styles.alert)
        return styles.para(text, styles.number if column in numbers else styles.cell)

    data = [[cell(h, i, head=True) for i, h in enumerate(header)]]
    data += [[cell(str(value), i) for i, value in enumerate(row)] for row in rows]
    alert = alert_column is not None
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), ALERT_HEAD if alert else HEAD),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ALERT_ROW if alert else STRIPE]),
        ("LINEBELOW", (0, 0), (-1, 0), 0.8, ALERT_INK if alert else ACCENT),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    return Table(data, colWidths=[w * mm for w in widths_mm], repeatRows=1, hAlign="LEFT", style=TableStyle(commands))


def chart(png: bytes, width: float = CONTENT_WIDTH) -> Image:
    """A chart at `width`, keeping its proportions."""
    pixels_wide, pixels_high = ImageReader(io.BytesIO(png)).getSize()
    return Image(io.BytesIO(png), width=width, height=width * pixels_high / pixels_wide)
