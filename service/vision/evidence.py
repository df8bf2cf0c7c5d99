"""The pictures a newly opened hazard carries: the annotated frame and its thumbnail, as JPEG bytes.

Why here: what a recipient sees is drawing; the store only saves the bytes this returns and their hashes (the
original frame's bytes are kept untouched beside them). The picture is what a police officer attaches to a
notice: the zone with its name, the object boxed with its category and confidence, the fire lane's narrowest
cross-section, and a caption band below the frame with the hazard number, compound, address, camera, the
capture time in site time with its offset, what stood there and for how long.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from service.config.site import Camera, Site, Zone
from service.vision.annotate import encode_jpeg, thumbnail
from service.vision.clear_width import ClearWidthResult, draw_clear_width
from service.vision.drawing import ObjectShape, draw
from service.vision.labels import (
    Translator,
    duration,
    object_label,
    object_name,
    palette_key,
    readable,
    site_time,
    zone_name,
    zone_shapes,
)


@dataclass(frozen=True)
class HazardFacts:
    """What a camera hazard's picture shows, known once the hazard has its number."""

    hazard_id: int
    zone: Zone
    box: tuple[float, float, float, float]
    category: str
    class_name: str
    confidence: float
    dwell_s: float
    captured_at: datetime


def caption_lines(
    t: Translator, facts: HazardFacts, site: Site, camera: Camera, clear_width: ClearWidthResult | None = None
) -> list[list[str]]:
    """The caption band's lines: who and where, which camera and when (site time), what and how long."""
    compound = site.compound(camera.compound)
    place = [readable(compound.name, compound.id), readable(compound.address, "")] if compound else [camera.compound]
    camera_name = readable(camera.name, camera.id)
    camera_text = camera_name if camera_name == camera.id else f"{camera_name} ({camera.id})"
    what = [
        t(
            "evidence.dwell",
            object=object_name(t, facts.category, facts.class_name),
            zone=zone_name(facts.zone),
            duration=duration(t, facts.dwell_s),
        )
    ]
    if clear_width is not None:
        key = "evidence.width_below" if clear_width.width_m < camera.min_clear_width_m else "evidence.width_enough"
        what.append(t(key, width=f"{clear_width.width_m:.2f}", minimum=f"{camera.min_clear_width_m:.1f}"))
    captured = t("evidence.captured", time=site_time(facts.captured_at, site.zone))
    return [
        [t("evidence.hazard", id=facts.hazard_id), *place],
        [t("evidence.camera", camera=camera_text), captured],
        what,
    ]


def hazard_pictures(
    image: np.ndarray,
    facts: HazardFacts,
    site: Site,
    camera: Camera,
    t: Translator,
    clear_width: ClearWidthResult | None = None,
) -> dict[str, bytes]:
    """{"annotated": ..., "thumbnail": ...}: the zone, the object, the width, the caption band below."""
    shape = ObjectShape(
        facts.box,
        palette_key(facts.category, facts.class_name),
        object_label(t, facts.category, facts.class_name, facts.confidence),
        emphasis=True,
    )
    picture = draw(image, zone_shapes(t, [facts.zone]), [shape], caption_lines(t, facts, site, camera, clear_width))
    if clear_width is not None:  # on the frame's rows only: the band below keeps the frame's coordinates
        draw_clear_width(picture[: image.shape[0]], clear_width, camera.min_clear_width_m)
    return {"annotated": encode_jpeg(picture), "thumbnail": encode_jpeg(thumbnail(picture), 80)}


@dataclass(frozen=True)
class InspectionFacts:
    """What an inspector's or resident's photo shows: the boxes they drew around the hazard, and who, where, when."""

    hazard_id: int
    compound_id: str
    kind_label: str  # the kind of hazard in the reader's language ("消防车道堆物")
    palette: str  # the colour of its category
    boxes: list[list[float]]
    found_by: str  # "巡查 insp-lanting", in the reader's language
    location: str
    captured_at: datetime


def inspection_pictures(image: np.ndarray, facts: InspectionFacts, site: Site, t: Translator) -> dict[str, bytes]:
    """{"annotated": ..., "thumbnail": ...}: the drawn boxes labelled with the kind, and the caption band over
    the photo's bottom rows (the photo keeps its size: the boxes were drawn in its coordinates)."""
    compound = site.compound(facts.compound_id)
    place = [readable(compound.name, compound.id), readable(compound.address, "")] if compound else []
    shapes = [ObjectShape(tuple(box), facts.palette, readable(facts.kind_label, "")) for box in facts.boxes]
    lines = [
        [t("evidence.hazard", id=facts.hazard_id), *place],
        [readable(facts.found_by, ""), readable(facts.location, "")],
        [t("evidence.captured", time=site_time(facts.captured_at, site.zone))],
    ]
    picture = draw(image, (), shapes, [[part for part in line if part] for line in lines], band_over=True)
    return {"annotated": encode_jpeg(picture), "thumbnail": encode_jpeg(thumbnail(picture), 80)}
