"""What the drawn labels say, in the reader's language: objects, zones, times, durations.

Why apart from drawing.py: drawing knows pixels and fonts; this knows the words. The translator comes from
the caller (service/locale), so vision/ imports only config. Without a CJK font (`drawing.can_draw`) a
Chinese name gives way to its id and the language to English, so nothing is drawn as boxes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo

from service.config import clock
from service.config.site import Site, Zone
from service.vision.drawing import PALETTE, ObjectShape, ZoneShape, can_draw
from service.vision.types import Detections

Translator = Callable[..., str]


def language(preferred: str) -> str:
    """`preferred`, or English when no CJK font can draw Chinese."""
    return preferred if can_draw("中") else "en"


def evidence_language(site: Site) -> str:
    """The language a site's pictures are drawn in: its own, or English without a CJK font."""
    return language(site.language)


def readable(name: str, fallback: str) -> str:
    """`name` when it can be drawn, else `fallback` (an ASCII id)."""
    return name if name and can_draw(name) else fallback


def palette_key(category: str, class_name: str, origin: str = "model") -> str:
    """The colour an object gets: its category's; "unknown" for a static object no detector class explains."""
    if class_name == "unknown_object" or origin == "static" or category not in PALETTE:
        return "unknown"
    return category


def object_name(t: Translator, category: str, class_name: str, origin: str = "model") -> str:
    key = palette_key(category, class_name, origin)
    return t("evidence.unknown_object") if key == "unknown" else t(f"category.{category}")


def object_label(t: Translator, category: str, class_name: str, confidence: float, origin: str = "model") -> str:
    """ "机动车 87%": the category in the reader's language and the model's confidence."""
    return t("evidence.object", category=object_name(t, category, class_name, origin), percent=round(confidence * 100))


def zone_name(zone: Zone) -> str:
    """The zone's human name, or its id when it has none (or the name cannot be drawn)."""
    return readable(zone.name, zone.id)


def zone_label(t: Translator, zone: Zone) -> str:
    """ "北门消防车道 · 消防车道": the name and the type in the reader's language."""
    return t("evidence.zone", name=zone_name(zone), type=t(f"zone.{zone.type.value}"))


def zone_shapes(t: Translator, zones: Sequence[Zone]) -> list[ZoneShape]:
    return [ZoneShape(zone.polygon, zone_label(t, zone)) for zone in zones]


def object_shapes(t: Translator, detections: Detections) -> list[ObjectShape]:
    """Every detected object, boxed in its category's colour and labelled."""
    shapes = []
    for i in range(len(detections)):
        category, class_name = str(detections.category[i]), str(detections.class_name[i])
        origin = str(detections.origin[i])
        x1, y1, x2, y2 = (float(v) for v in detections.xyxy[i])
        label = object_label(t, category, class_name, float(detections.confidence[i]), origin)
        shapes.append(ObjectShape((x1, y1, x2, y2), palette_key(category, class_name, origin), label))
    return shapes


def site_time(at: datetime, zone: tzinfo) -> str:
    """ "2026-12-02 10:15:03 +08:00": the site's wall clock with its offset, as the pages show times."""
    return clock.site_time(at, zone, seconds=True)


def duration(t: Translator, seconds: float) -> str:
    """Minutes from two minutes up (a dwell time is set in minutes), seconds below."""
    if seconds >= 120:
        return t("evidence.minutes", n=round(seconds / 60))
    return t("evidence.seconds", n=round(seconds))
