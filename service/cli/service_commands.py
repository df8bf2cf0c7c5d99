"""`clearway serve`, `detect`, `db upgrade`, `keys`, `model install-default`, `site check`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from service.auth.keys import ROLES
from service.cli.common import agency_roles, database_with_site, fail, write_secrets
from service.config.settings import Settings
from service.config.site import load_site
from service.store.db import Database


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.api.app import create_app

    load_site(settings.site_file)  # fail fast with the exact path of a config mistake
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_detect(args: argparse.Namespace, settings: Settings) -> int:
    """Run the model on one image and show which zones its objects are in; no database involved."""
    import cv2

    from service.hazards.engine import CameraState, HazardEngine
    from service.runtime import default_detector_factory
    from service.vision.annotate import annotate
    from service.vision.decoding import decode_image

    site = load_site(args.site or settings.site_file)
    camera = site.camera(args.camera)
    if camera is None:
        return fail(f"camera {args.camera!r} is not in the site file (known: {[c.id for c in site.cameras]})")
    image, _ = decode_image(Path(args.image).read_bytes(), settings.max_pixels)
    detector = default_detector_factory(settings)()
    detections = detector.detect(image)
    now = datetime.now(UTC)
    observation = HazardEngine(camera).observe(CameraState(), now, detections, "cli", image.shape[1], image.shape[0])
    records = observation.detections.to_records()
    out = Path(args.out) if args.out else Path(args.image).with_suffix(".annotated.jpg")
    picture = annotate(image, [(z.id, z.type.value, z.polygon) for z in camera.zones], detections, now)
    cv2.imwrite(str(out), picture)
    in_zone = [r for r in records if r["zones"]]
    print(
        json.dumps(
            {
                "camera": camera.id,
                "image": str(args.image),
                "annotated": str(out),
                "detections": records,
                "hazards": [c.key for c in observation.changes if c.kind == "opened"],
                "note": (
                    f"{len(in_zone)} object(s) in zones; a hazard opens only after the zone's dwell time, "
                    "which one frame cannot show"
                ),
            },
            ensure_ascii=False,
            indent=2,
        )
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from service.store.migrate import current_revision, upgrade

    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    print(f"database at revision {current_revision(db.engine)}: {db.engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth.keys import KeyCreationError, create_key

    db = database_with_site(settings)
    try:
        with db.session() as session:
            key = create_key(session, args.name, args.role, args.agency, args.camera)
    except KeyCreationError as exc:
        return fail(str(exc))
    print(key)
    print(f"(role {args.role}; shown once — store it now)", file=sys.stderr)
    return 0


def cmd_keys_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Create one key per role for the demo site, once, and write them to <data_dir>/demo-keys.env."""
    from service.auth.keys import create_key

    target = settings.data_dir / "demo-keys.env"
    if target.exists():
        print(f"demo keys already exist: {target}")
        return 0
    site = load_site(settings.site_file)
    db = database_with_site(settings)
    lines = []
    with db.session() as session:
        lines.append(f"ADMIN_KEY={create_key(session, 'demo-admin', 'admin')}")
        cameras = [c.id for c in site.cameras]
        lines.append(f"GATEWAY_KEY={create_key(session, 'demo-gateway', 'gateway', camera_ids=cameras)}")
        for agency_id, role in agency_roles(site):
            name = agency_id.upper().replace("-", "_")
            lines.append(f"{name}_KEY={create_key(session, agency_id, role, agency_id)}")
    write_secrets(target, lines)
    print(f"demo keys written to {target}:\n" + "\n".join(lines))
    return 0


def cmd_model_install(args: argparse.Namespace, settings: Settings) -> int:
    from service.modelbuild.install import install_default_model

    path = install_default_model(settings.models_dir, force=args.force)
    print(f"default model ready: {path}")
    return 0


def cmd_site_check(args: argparse.Namespace, settings: Settings) -> int:
    site = load_site(args.site or settings.site_file)
    zones = sum(len(c.zones) for c in site.cameras)
    counts = f"{len(site.agencies)} agencies, {len(site.compounds)} compounds, {len(site.cameras)} cameras"
    print(f"ok: {counts}, {zones} zones")
    for camera in site.cameras:
        if camera.calibration is not None:
            print(f"  {camera.id}: ground calibration, {camera.calibration.report()}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(func=cmd_serve)

    detect = sub.add_parser("detect", help="detect objects in one image and show zone membership")
    detect.add_argument("image")
    detect.add_argument("--site", help="site YAML (default: CLEARWAY_SITE_FILE or the demo site)")
    detect.add_argument("--camera", required=True)
    detect.add_argument("--out", help="annotated image path (default: IMAGE.annotated.jpg)")
    detect.set_defaults(func=cmd_detect)

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create an API key (printed once)")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--agency", help="agency id (property, police and fire roles)")
    create.add_argument("--camera", action="append", help="camera a gateway may push for (repeatable)")
    create.set_defaults(func=cmd_keys_create)
    keys.add_parser("demo", help="create one key per role for the demo site").set_defaults(func=cmd_keys_demo)

    model = sub.add_parser("model", help="models").add_subparsers(dest="model_command", required=True)
    install = model.add_parser("install-default", help="build the offline YOLOv3-tiny COCO model into models/")
    install.add_argument("--force", action="store_true")
    install.set_defaults(func=cmd_model_install)

    site = sub.add_parser("site", help="site file").add_subparsers(dest="site_command", required=True)
    check = site.add_parser("check", help="validate a site file")
    check.add_argument("site", nargs="?")
    check.set_defaults(func=cmd_site_check)
