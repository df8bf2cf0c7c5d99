"""`clearway detect`: the model on one image, which zones its objects are in, and the drawn picture.

The picture is drawn in the evidence style (service/vision/drawing.py) and written to the current directory
by default (never beside the input, which may be inside an installed package); a short summary is printed,
the full JSON only with `--json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from service.cli.common import fail
from service.config.settings import Settings
from service.config.site import Camera, Site, load_site

if TYPE_CHECKING:
    from service.vision.labels import Translator


def default_output(image: str | Path) -> Path:
    """`<image stem>.annotated.jpg` in the current directory."""
    return Path.cwd() / f"{Path(image).stem}.annotated.jpg"


def cmd_detect(args: argparse.Namespace, settings: Settings) -> int:
    """Run the model on one image and show which zones its objects are in; no database involved."""
    import cv2

    from service.hazards.engine import CameraState, HazardEngine
    from service.locale import translator
    from service.runtime import default_detector_factory
    from service.vision.decoding import decode_image
    from service.vision.drawing import draw, font_problem
    from service.vision.labels import language, object_shapes, zone_shapes

    site = load_site(args.site or settings.site_file)
    camera = site.camera(args.camera)
    if camera is None:
        return fail(f"camera {args.camera!r} is not in the site file (known: {[c.id for c in site.cameras]})")
    out = Path(args.out) if args.out else default_output(args.image)
    if not out.parent.is_dir():
        return fail(f"cannot write {out}: folder {out.parent} does not exist")
    image, _ = decode_image(Path(args.image).read_bytes(), settings.max_pixels)
    detector = default_detector_factory(settings)()
    detections = detector.detect(image)
    now = datetime.now(UTC)
    observation = HazardEngine(camera).observe(CameraState(), now, detections, "cli", image.shape[1], image.shape[0])
    lang = language(args.language or site.language)
    if font_problem():
        print(f"warning: {font_problem()}", file=sys.stderr)
    t = translator(lang)
    picture = draw(
        image, zone_shapes(t, camera.zones), object_shapes(t, observation.detections), _caption(t, site, camera, now)
    )
    if not cv2.imwrite(str(out), picture):
        return fail(f"could not write the picture to {out}")
    records = observation.detections.to_records()
    report = {
        "camera": camera.id,
        "image": str(args.image),
        "annotated": str(out),
        "detections": records,
        "hazards": [c.key for c in observation.changes if c.kind == "opened"],
        "note": (
            f"{sum(1 for r in records if r['zones'])} object(s) in zones; a hazard opens only after the zone's "
            "dwell time, which one frame cannot show"
        ),
    }
    print(json.dumps(report, ensure_ascii=False, indent=2) if args.json else summary(report, camera))
    return 0


def _caption(t: Translator, site: Site, camera: Camera, now: datetime) -> list[list[str]]:
    """Where and when: compound, address, camera, the time of the check (site time; no capture time known)."""
    from service.vision.labels import readable, site_time

    compound = site.compound(camera.compound)
    place = [readable(compound.name, compound.id), readable(compound.address, "")] if compound else []
    name = readable(camera.name, camera.id)
    return [place, [t("evidence.camera", camera=name), t("evidence.checked", time=site_time(now, site.zone))]]


def summary(report: dict, camera: Camera) -> str:
    """A few lines for a person: each object with its category, confidence and zones; the zones; the picture."""
    records = report["detections"]
    lines = [f"{Path(report['image']).name} on camera {camera.id}: {len(records)} object(s)"]
    for r in sorted(records, key=lambda r: -r["confidence"]):
        where = f"  in {', '.join(r['zones'])}" if r["zones"] else ""
        name = r["class_name"] if r["class_name"] == r["category"] else f"{r['category']} ({r['class_name']})"
        lines.append(f"  {name} {round(r['confidence'] * 100)}%{where}")
    for zone in camera.zones:
        named = f" {zone.name!r}" if zone.name else ""
        lines.append(
            f"zone {zone.id}{named}: {zone.type.value}, dwell {zone.effective_dwell_seconds:.0f} s, "
            f"counts {', '.join(zone.effective_categories)}"
        )
    lines.append(f"picture: {report['annotated']}")
    lines.append(report["note"][0].upper() + report["note"][1:] + " (--json for every detail)")
    return "\n".join(lines)


def add_commands(sub: argparse._SubParsersAction) -> None:
    detect = sub.add_parser(
        "detect",
        help="detect objects in one image, show zone membership and draw the picture",
        description="Run the model on IMAGE as camera CAMERA would see it: print the objects found (category, "
        "confidence, zones), and draw them with the camera's zones in the evidence style.",
    )
    detect.add_argument("image")
    detect.add_argument("--site", help="site YAML (default: CLEARWAY_SITE_FILE or the demo site)")
    detect.add_argument("--camera", required=True, help="the camera whose zones apply")
    detect.add_argument(
        "--out", help="where to write the drawn picture (default: ./<IMAGE stem>.annotated.jpg in this folder)"
    )
    detect.add_argument(
        "--language", choices=("zh", "en"), help="the picture's labels (default: the campaign's language, else zh)"
    )
    detect.add_argument("--json", action="store_true", help="print the full JSON instead of the summary")
    detect.set_defaults(func=cmd_detect)
