"""The one drawing style: zones, labelled boxes, the caption band below the frame, Chinese in a CJK font."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import cv2
import matplotlib
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from service.config.settings import DEMO_SITE
from service.config.site import load_site
from service.locale import translator
from service.vision import drawing
from service.vision.drawing import BAND, PALETTE, ZONE, ObjectShape, ZoneShape, draw, wrap
from service.vision.evidence import InspectionFacts, inspection_pictures
from service.vision.labels import evidence_language, object_label, readable, site_time, zone_label

ZH, EN = translator("zh"), translator("en")
GREY = 128
DEJAVU = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"  # has no Chinese glyphs


@pytest.fixture
def needs_cjk() -> None:
    if drawing.cjk_font() is None:
        pytest.skip(drawing.font_problem())


@pytest.fixture
def no_cjk_font(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A machine where the configured CJK font is missing (the lookups are cached: cleared around the test)."""
    monkeypatch.setenv("CLEARWAY_CJK_FONT", str(tmp_path / "missing.ttc"))
    drawing._lookup.cache_clear()
    drawing.font.cache_clear()
    yield
    monkeypatch.delenv("CLEARWAY_CJK_FONT")
    drawing._lookup.cache_clear()
    drawing.font.cache_clear()


def grey(width: int = 640, height: int = 480) -> np.ndarray:
    return np.full((height, width, 3), GREY, np.uint8)


def close(pixel: np.ndarray, colour: tuple[int, int, int], tolerance: int = 40) -> bool:
    return bool(np.abs(pixel.astype(int) - np.array(colour)).max() <= tolerance)


def test_the_caption_band_lies_below_the_frame_and_the_frame_keeps_its_pixels() -> None:
    image = grey()
    picture = draw(image, caption=[["隐患 #123", "兰亭苑", "1 Lanting Road"], ["拍摄于 2026-12-02 10:15:03 +08:00"]])
    assert picture.shape[1] == 640 and picture.shape[0] > 480 + 40  # two lines of text below
    assert np.array_equal(picture[:480], image)  # nothing covers the scene; coordinates stay the frame's
    band = picture[480:]
    assert close(band[2, 2], BAND, 0)  # the band's own colour
    assert (np.abs(band.astype(int) - np.array(BAND)).max(axis=2) > 100).sum() > 300  # and text on it
    assert draw(image).shape == image.shape  # no caption, no band


def test_zones_and_objects_have_different_colours_and_labels() -> None:
    image = grey()
    zone = ZoneShape([(0.05, 0.5), (0.45, 0.5), (0.45, 0.95), (0.05, 0.95)], "北门消防车道 · 消防车道")
    car = ObjectShape((400.0, 200.0, 600.0, 400.0), "vehicle", "机动车 87%")
    picture = draw(image, [zone], [car])
    assert ZONE not in PALETTE.values()
    outline = picture[int(0.95 * 480), 150]  # the zone's bottom edge
    box_edge = picture[300, 600]  # the car's right edge
    inside = picture[int(0.8 * 480), 150]  # inside the zone: translucent fill over grey
    assert close(outline, ZONE) and close(box_edge, PALETTE["vehicle"])
    assert not close(outline, box_edge)
    assert not close(inside, (GREY, GREY, GREY), 10) and not close(inside, ZONE, 40)
    label = picture[170:200, 402:470]  # the car's label above its top-left corner, filled in its colour
    assert (np.abs(label.astype(int) - np.array(PALETTE["vehicle"])).max(axis=2) < 20).mean() > 0.4
    assert (label.astype(int).min(axis=2) > 200).sum() > 20  # with white text on the orange
    zone_label = picture[240:270, 35:100]  # the zone's label below its top edge
    assert (np.abs(zone_label.astype(int) - np.array(ZONE)).max(axis=2) < 20).mean() > 0.3


def test_chinese_is_drawn_in_the_cjk_font_not_as_missing_glyph_boxes(needs_cjk: None) -> None:
    def ink(text: str, face: ImageFont.FreeTypeFont) -> np.ndarray:
        canvas = Image.new("L", (120, 60))
        ImageDraw.Draw(canvas).text((4, 4), text, font=face, fill=255)
        return np.asarray(canvas) > 0

    cjk, latin = drawing.font(32), ImageFont.truetype(str(DEJAVU), 32)
    # Without Chinese glyphs both characters are the same "missing glyph" box; with the CJK font they differ.
    assert np.array_equal(ink("隐", latin), ink("患", latin))
    assert not np.array_equal(ink("隐", cjk), ink("患", cjk))
    assert ink("隐", cjk).sum() > ink("隐", latin).sum() * 1.2  # a real glyph has more strokes than an empty box
    # And the caption band shows it: two captions that differ only in a character's order differ on the band.
    one, two = (draw(grey(), caption=[[text]])[480:] for text in ("隐患 #1", "患隐 #1"))
    assert not np.array_equal(one, two)


def test_a_missing_cjk_font_says_what_was_looked_for_and_falls_back_to_english(no_cjk_font: None) -> None:
    assert drawing.cjk_font() is None
    problem = drawing.font_problem()
    assert "CLEARWAY_CJK_FONT=" in problem and "apt-get install fonts-wqy-microhei" in problem
    assert "English labels" in problem
    site = load_site(DEMO_SITE)
    assert evidence_language(site) == "en"
    assert readable("兰亭苑 Lanting Garden", "lanting") == "lanting" and readable("Gate 1", "g1") == "Gate 1"
    picture = draw(grey(), [], [ObjectShape((10, 50, 100, 100), "vehicle", "Vehicle 87%")], [["Hazard #1"]])
    assert picture.shape[0] > 480  # still drawn, with Pillow's bundled font


def test_labels_name_things_in_the_readers_language() -> None:
    zone = load_site(DEMO_SITE).camera("lanting-gate").zone("fire-lane-north")
    assert object_label(ZH, "vehicle", "car", 0.874) == "机动车 87%"
    assert object_label(EN, "clutter", "unknown_object", 0.5, "static") == "Unknown object 50%"
    assert zone_label(ZH, zone) == "北门消防车道 North fire lane · 消防车道"
    assert zone_label(EN, zone.model_copy(update={"name": ""})) == "fire-lane-north · Fire lane"
    at = datetime(2026, 12, 2, 2, 15, 3, tzinfo=UTC)
    assert site_time(at, ZoneInfo("Asia/Shanghai")) == "2026-12-02 10:15:03 +08:00"
    assert site_time(at, ZoneInfo("America/New_York")) == "2026-12-01 21:15:03 -05:00"


def test_a_caption_too_wide_for_the_frame_wraps_and_cuts_long_parts() -> None:
    face = drawing.font(20)
    parts = ["隐患 #123", "兰亭苑", "一条很长很长的地址" * 6]
    lines = wrap(parts, face, 300)
    assert len(lines) >= 3 and all(face.getbbox(line)[2] <= 300 for line in lines)
    assert "".join(lines).replace(drawing.SEPARATOR, "") == "".join(parts)
    narrow = draw(grey(320, 240), caption=[parts])
    assert narrow.shape[0] > 240 + 3 * 20


def test_inspection_pictures_keep_the_photos_size_and_say_who_where_when() -> None:
    site = load_site(DEMO_SITE)
    facts = InspectionFacts(
        hazard_id=7,
        compound_id="lanting",
        kind_label="消防车道堆物",
        palette="clutter",
        boxes=[[100, 100, 300, 300]],
        found_by="巡查 insp",
        location="3号楼东侧",
        captured_at=datetime(2026, 12, 2, 2, 15, tzinfo=UTC),
    )
    pictures = inspection_pictures(grey(), facts, site, translator("zh"))
    picture = cv2.imdecode(np.frombuffer(pictures["annotated"], np.uint8), cv2.IMREAD_COLOR)
    assert picture.shape == (480, 640, 3)
    assert close(picture[200, 300], PALETTE["clutter"], tolerance=40)  # JPEG moves colours a little
    assert (picture[400:].astype(int).sum(axis=2) > 600).sum() > 100  # the caption's light text at the bottom
