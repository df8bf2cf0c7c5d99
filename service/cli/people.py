"""`clearway users create|demo` (people who use the web pages) and `clearway export labelled`."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from service.auth.users import USER_ROLES
from service.cli.common import agency_roles, database_with_site, fail, write_secrets
from service.config.settings import Settings


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth.audit import audit
    from service.auth.users import UserCreationError, create_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("password: ")
        if getpass.getpass("again: ") != password:
            return fail("the two passwords differ")
    db = database_with_site(settings)
    try:
        with db.session() as session:
            user = create_user(session, args.username, password, args.role, args.agency, args.name or "")
            audit(session, None, "user.create", "user", user.username, f"role {user.role}", actor="cli")
    except UserCreationError as exc:
        return fail(str(exc))
    finally:
        db.dispose()
    print(f"user {args.username!r} created (role {args.role}{', agency ' + args.agency if args.agency else ''})")
    return 0


def cmd_users_demo(args: argparse.Namespace, settings: Settings) -> int:
    """One user per role for the demo site, once; passwords go to <data_dir>/demo-users.env (mode 600)."""
    import secrets

    from sqlalchemy import select

    from service.auth.users import create_user
    from service.config.site import load_site
    from service.store.auth_models import User

    target = settings.data_dir / "demo-users.env"
    if target.exists():
        print(f"demo users already exist: {target}")
        return 0
    site = load_site(settings.site_file)
    people = [("admin", "admin", None), ("county", "county", None)]
    people += [(agency_id, role, agency_id) for agency_id, role in agency_roles(site)]
    db = database_with_site(settings)
    lines = []
    try:
        with db.session() as session:
            for username, role, agency in people:
                if session.scalars(select(User).where(User.username == username)).first() is not None:
                    print(f"user {username!r} exists already: skipped", file=sys.stderr)
                    continue
                password = secrets.token_urlsafe(12)
                create_user(session, username, password, role, agency, display_name=username)
                lines.append(f"{username}={password}  # {role}{' ' + agency if agency else ''}")
    finally:
        db.dispose()
    write_secrets(target, lines)
    print(f"demo users written to {target} (log in at /web/login):\n" + "\n".join(lines))
    return 0


def cmd_export_labelled(args: argparse.Namespace, settings: Settings) -> int:
    from service.store.db import Database
    from service.store.evidence import EvidenceStore
    from service.store.labelled_export import export_labelled
    from service.store.migrate import upgrade

    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    try:
        summary = export_labelled(db, EvidenceStore(settings.evidence_dir), Path(args.out_dir))
    finally:
        db.dispose()
    print(
        f"exported {summary.positives} positives and {summary.negatives} negatives to {args.out_dir}"
        + (f" ({summary.skipped} skipped: no readable original)" if summary.skipped else "")
    )
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    users = sub.add_parser("users", help="people who use the web pages").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create a user (asks for the password)")
    create.add_argument("--username", required=True)
    create.add_argument("--role", required=True, choices=USER_ROLES)
    create.add_argument("--agency", help="agency id (property, police and fire roles)")
    create.add_argument("--name", help="display name")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    create.set_defaults(func=cmd_users_create)
    users.add_parser("demo", help="one user per role for the demo site").set_defaults(func=cmd_users_demo)

    export = sub.add_parser("export", help="export data").add_subparsers(dest="export_command", required=True)
    labelled = export.add_parser("labelled", help="confirmed/dismissed hazards as labelled training examples")
    labelled.add_argument("out_dir")
    labelled.set_defaults(func=cmd_export_labelled)
