"""`clearway serve`, `db upgrade`, `model install-default`."""

from __future__ import annotations

import argparse

from service.config.settings import Settings
from service.config.site import load_site
from service.store.db import Database


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from service.api.app import create_app

    if args.role is not None:
        settings = settings.model_copy(update={"role": args.role})
    load_site(settings.site_file)  # fail fast with the exact path of a config mistake
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level=args.log_level)
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from service.store.migrate import current_revision, upgrade

    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    print(f"database at revision {current_revision(db.engine)}: {db.engine.url.render_as_string(hide_password=True)}")
    return 0


def cmd_model_install(args: argparse.Namespace, settings: Settings) -> int:
    from service.modelbuild.install import install_default_model

    path = install_default_model(settings.models_dir, force=args.force)
    print(f"default model ready: {path}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--log-level", default="info")
    serve.add_argument(
        "--role",
        choices=("all", "ingest", "worker"),
        help="all (default, CLEARWAY_ROLE): one process, no broker; ingest: frames to NATS for the workers; "
        "worker: also applies the camera partitions it leases (docs/scale.md)",
    )
    serve.set_defaults(func=cmd_serve)

    db = sub.add_parser("db", help="database").add_subparsers(dest="db_command", required=True)
    db.add_parser("upgrade", help="apply migrations").set_defaults(func=cmd_db_upgrade)

    model = sub.add_parser("model", help="models").add_subparsers(dest="model_command", required=True)
    install = model.add_parser("install-default", help="build the offline YOLOv3-tiny COCO model into models/")
    install.add_argument("--force", action="store_true")
    install.set_defaults(func=cmd_model_install)
