"""The rendered campaign report: charts, PDF, spreadsheet and summary sentences, from figures computed out of
hand-made facts over two weeks, in Chinese and English, and with no hazards at all."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from PIL import Image

from service.locale import Translator, translator
from service.reports import fonts
from service.reports.charts import bar_chart, kinds_chart, line_chart, trend_chart
from service.reports.display import KEY_FIGURES, figure_name, local, percent_value, span, title, when
from service.reports.figures import Figures
from service.reports.fonts import ReportFontMissingError, cjk_font_path
from service.reports.report_pdf import report_pdf
from service.reports.report_xlsx import report_xlsx
from service.reports.summary import summary
from tests.reports.report_data import WEEK1, ZONE, final_figures, hand_made_facts, make_figures

ZH, EN = translator("zh"), translator("en")
needs_poppler = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("pdftoppm", "pdffonts", "pdftotext")), reason="poppler-utils not installed"
)


@pytest.fixture(scope="module", autouse=True)
def _cjk_font() -> None:
    try:
        cjk_font_path()
    except ReportFontMissingError as error:
        pytest.skip(str(error))


@pytest.fixture(scope="module")
def week() -> Figures:
    return make_figures(hand_made_facts())


@pytest.fixture(scope="module")
def empty() -> Figures:
    return make_figures([])


def _png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert image.format == "PNG"
    return image


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


# the figures the test data is meant to exercise, so a change to it cannot make the tests vacuous


def test_the_hand_made_week_has_something_in_every_table(week: Figures) -> None:
    assert week.found and week.rectified and week.overdue and week.supervised_open and week.escalated
    assert len(week.compounds) == 3 and len(week.overdue_units) >= 2 and len(week.trend) == 2
    assert any(not unit.name for unit in week.units)  # the hazards with no responsible unit named


# charts


@pytest.mark.parametrize("t", [ZH, EN], ids=["zh", "en"])
def test_report_charts_are_pngs_that_fit_a_page(week: Figures, t: Translator) -> None:
    for data in (trend_chart(week, t), kinds_chart(week, t)):
        image = _png(data)
        assert 800 <= image.width <= 1200 and 200 <= image.height <= 1200
        assert len(image.getcolors(1 << 16) or ()) > 10  # something is drawn, not a blank canvas


def test_chinese_labels_have_their_glyphs(week: Figures) -> None:
    """matplotlib warns of each glyph its font lacks (the boxes a reader would see): there must be none."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trend_chart(week, ZH)
        kinds_chart(week, ZH)
        bar_chart("各小区未整改与逾期", [c.name for c in week.compounds], {"未整改": [1, 2, 3]}, horizontal=True)


def test_the_kinds_chart_grows_with_the_kinds_and_reads_when_empty(week: Figures, empty: Figures) -> None:
    full, none = _png(kinds_chart(week, ZH)), _png(kinds_chart(empty, ZH))
    assert none.width == full.width and 100 <= none.height < full.height
    many = week.model_copy(update={"found_by_kind": {f"k{i}": i + 1 for i in range(13)}})
    assert _png(kinds_chart(many, ZH)).height > full.height


def test_generic_charts_take_any_series() -> None:
    bars = bar_chart("各小区", ["阳光花园", "幸福里小区"], {"未整改": [3, 2], "逾期": [1, 0]}, horizontal=True)
    grouped = bar_chart("W", ["W48", "W49"], {"a": [1, 2]}, line={"rate": [None, 0.5]}, line_axis="%")
    lines = line_chart(
        "整改率", ["W47", "W48", "W49"], {"全县": [None, 0.5, 0.8], "城关": [0.2, 0.4, 1.0]}, percent=True
    )
    counts = line_chart("未整改", ["W48", "W49"], {"全县": [4, 2]}, percent=False)
    for data in (bars, grouped, lines, counts, bar_chart("空", [], {}, empty="无数据")):
        assert _png(data).width > 500


def test_charts_drawn_in_threads_at_once_are_the_same_as_one_by_one(week: Figures) -> None:
    alone = trend_chart(week, ZH)
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda _: trend_chart(week, ZH), range(8)))
    assert all(data == alone for data in together)


# PDF


@needs_poppler
@pytest.mark.parametrize("figures_of", ["week", "final", "empty"])
def test_the_pdf_renders_with_the_chinese_font_embedded(figures_of: str, tmp_path: Path) -> None:
    facts = [] if figures_of == "empty" else hand_made_facts()
    figures = final_figures(facts) if figures_of == "final" else make_figures(facts)
    path = tmp_path / "report.pdf"
    path.write_bytes(report_pdf(figures, ZH, ZONE))
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(path), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert pages and all(Image.open(page).size == (414, 585) for page in pages)  # A4 at 50 dpi
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    cjk = [line.split() for line in fonts.splitlines() if "WenQuanYi" in line]
    assert cjk and all(tokens[-5] == "yes" for tokens in cjk)  # the emb column
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True).stdout
    assert title(figures, ZH) in text and figures.unit_name in text
    assert "report." not in text  # an unknown catalogue key would show itself
    for name in ("found", "rectified", "overdue"):
        assert re.search(rf"{re.escape(figure_name(name, ZH))}\s+{getattr(figures, name)}\b", text), name


@needs_poppler
def test_the_pdf_lists_units_compounds_and_supervised_hazards_in_local_time(week: Figures, tmp_path: Path) -> None:
    text = _pdf_text(report_pdf(week, ZH, ZONE), tmp_path)
    assert ZH("report.doc.overdue_units") in text and ZH("report.doc.supervised") in text
    assert span(week, ZONE) in text and "2026-11-27 17:00" in text  # 09:00 UTC is 17:00 in Shanghai
    for unit in week.overdue_units:
        assert re.search(
            rf"{re.escape(unit.name)}\s+{unit.found}\s+{unit.rectified}\s+{unit.open}\s+{unit.overdue}", text
        )
    for compound in week.compounds[:2]:
        assert compound.name in text
    for hazard in week.supervised:
        assert when(hazard.opened_at, ZONE).split()[0] in text and ZH(f"kind.{hazard.kind}")[:6] in text
    for sentence in summary(week, ZH):
        assert sentence[:12] in text


@needs_poppler
def test_the_english_pdf_is_in_english(week: Figures, tmp_path: Path) -> None:
    text = _pdf_text(report_pdf(week, EN, ZONE), tmp_path)
    assert title(week, EN) in text and "Key figures" in text and week.unit_name in text
    assert re.search(rf"Found\s+{week.found}\b", text) and "report." not in text
    assert "主要指标" not in text


# spreadsheet


def _rows(sheet: Worksheet) -> list[list[object]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


@pytest.mark.parametrize("t", [ZH, EN], ids=["zh", "en"])
def test_the_spreadsheet_holds_the_figures_as_typed_cells(week: Figures, t: Translator) -> None:
    book = load_workbook(io.BytesIO(report_xlsx(week, t, ZONE)))
    titles = ("summary", "kinds", "sources", "compounds", "units", "trend", "supervised")
    assert book.sheetnames == [t(f"report.sheet.{name}") for name in titles]
    summary_sheet = book[t("report.sheet.summary")]
    values = dict(_rows(summary_sheet)[1:])
    for name in KEY_FIGURES:
        assert values[figure_name(name, t)] == getattr(week, name), name
    assert values[figure_name("starts_at", t)] == local(week.starts_at, ZONE)
    assert values[figure_name("ends_at", t)] == datetime(2026, 12, 4, 17, 0)
    rate_cell = next(row[1] for row in summary_sheet.iter_rows() if row[0].value == figure_name("rate", t))
    assert "%" in rate_cell.number_format
    compounds = _rows(book[t("report.sheet.compounds")])[1:]
    assert compounds == [[c.name, c.found, c.rectified, c.open, c.overdue, c.rate] for c in week.compounds]
    trend = _rows(book[t("report.sheet.trend")])[1:]
    assert [row[0] for row in trend] == [p.label for p in week.trend]
    for sheet in book:
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
        assert len(sheet.title) <= 31 and sheet.column_dimensions["A"].width >= 8


def test_supervised_hazards_have_real_local_dates(week: Figures) -> None:
    sheet = load_workbook(io.BytesIO(report_xlsx(week, ZH, ZONE)))[ZH("report.sheet.supervised")]
    rows = _rows(sheet)[1:]
    assert len(rows) == len(week.supervised)
    for row, hazard in zip(rows, week.supervised, strict=True):
        assert row[0] == hazard.number and isinstance(row[3], datetime) and row[3].tzinfo is None
        assert row[3] == local(hazard.opened_at, ZONE) and row[4] == local(hazard.deadline, ZONE)
    assert sheet["D2"].number_format == "yyyy-mm-dd hh:mm"


def test_the_final_spreadsheet_has_its_phases() -> None:
    final = final_figures(hand_made_facts())
    book = load_workbook(io.BytesIO(report_xlsx(final, ZH, ZONE)))
    phases = _rows(book[ZH("report.sheet.phases")])[1:]
    assert [row[0] for row in phases] == [ZH("report.phase.self_inspection"), ZH("report.phase.rectification")]
    assert [row[1] for row in phases] == [p.found for p in final.phases]


def test_an_empty_spreadsheet_still_has_every_sheet(empty: Figures) -> None:
    book = load_workbook(io.BytesIO(report_xlsx(empty, EN, ZONE)))
    assert len(book.sheetnames) == 7 and _rows(book[EN("report.sheet.compounds")])[1:] == []
    values = dict(_rows(book[EN("report.sheet.summary")])[1:])
    assert values[figure_name("found", EN)] == 0 and values[figure_name("rate", EN)] is None


# summary sentences


def test_the_weekly_summary_says_the_numbers(week: Figures) -> None:
    sentences = summary(week, ZH)
    assert 2 <= len(sentences) <= 4
    first = sentences[0]
    for number in (week.found, week.rectified, week.rectified_on_time):
        assert f" {number} 处" in first
    assert first.startswith("本周新发现隐患") and f"{percent_value(week.rate)}%" in first
    overdue = sentences[1]
    assert f"{week.overdue} 处" in overdue and f"{len(week.overdue_units)} 个单位" in overdue
    assert all(f"{u.name} {u.overdue} 处" in overdue for u in week.overdue_units)
    assert any(f"{week.supervised_open} 处未整改" in s and "挂牌督办" in s for s in sentences)


def test_the_english_summary_says_the_same_numbers(week: Figures) -> None:
    zh, en = summary(week, ZH), summary(week, EN)
    assert len(zh) == len(en)
    for chinese, english in zip(zh, en, strict=True):
        assert re.findall(r"\d+", chinese) == re.findall(r"\d+", english)
    assert not any(re.search(r"[\u4e00-\u9fff]", s) for s in en[:1])


def test_a_week_with_nothing_new_and_a_campaign_with_nothing_at_all() -> None:
    quiet = make_figures([f for f in hand_made_facts() if f.opened_at < WEEK1.ends_at])
    assert quiet.found == 0 and quiet.rate is not None
    assert (
        summary(quiet, ZH)[0].startswith("本周未发现新隐患")
        and f"{percent_value(quiet.rate)}%" in summary(quiet, ZH)[0]
    )
    nothing = make_figures([])
    assert nothing.rate is None
    for t in (ZH, EN):
        sentences = summary(nothing, t)
        assert sentences == [t("report.summary.week_empty")]
        assert "None" not in "".join(sentences) and "%" not in "".join(sentences)


def test_the_final_summary_speaks_of_the_whole_campaign() -> None:
    final = final_figures(hand_made_facts())
    sentences = summary(final, ZH)
    assert sentences[0].startswith("整治期间共发现隐患") and f" {final.found} 处" in sentences[0]
    assert all("本周" not in s and "本期" not in s for s in sentences)
    assert summary(final_figures([]), ZH) == [ZH("report.summary.final_empty")]


def test_rates_never_round_to_a_false_whole() -> None:
    assert [percent_value(r) for r in (None, 0, 0.001, 0.8125, 0.996, 1)] == [None, 0, 1, 81, 99, 100]


# the font


def test_a_missing_font_says_how_to_install_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fonts, "FAMILIES", ("No Such Font Family",))
    with pytest.raises(ReportFontMissingError, match=r"apt-get install fonts-wqy-microhei"):
        fonts.cjk_font_path.__wrapped__()
