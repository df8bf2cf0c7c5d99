"""`clearway users create|list|disable|enable|unlock|reset-password|demo` (people who use the web pages) and
`clearway export labelled`. The changes are made by service/auth/accounts.py, as on the admin page."""

from __future__ import annotations

import argparse
import getpass
import re
import sys
from collections.abc import Callable
from pathlib import Path

from service.auth.audit import audit
from service.auth.users import USER_ROLES
from service.cli.common import agency_roles, database_with_site, fail, site_session, write_secrets
from service.cli.tables import site_time, table
from service.config.settings import Settings


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
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
            audit(session, None, "user.create", "user", user.username, f"role {user.role}", actor="cli", via="cli")
    except UserCreationError as exc:
        return fail(str(exc))
    finally:
        db.dispose()
    print(f"user {args.username!r} created (role {args.role}{', agency ' + args.agency if args.agency else ''})")
    return 0


def cmd_users_list(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth.accounts import list_people

    with site_session(settings) as (session, site):
        people = list_people(session)
    zone = site.zone
    headers = ("username", "name", "role", "agency", "last login", "locked until", "disabled")
    rows = [
        (p.username, p.display_name, p.role, p.agency_id or "", *(site_time(t, zone) for t in times))
        for p in people
        for times in [(p.last_login_at, p.locked_until, p.disabled_at)]
    ]
    print(table(headers, rows) if rows else "no users (create one with `clearway users create`)")
    return 0


def _change(settings: Settings, done: str, change: Callable[..., object], *args: object) -> int:
    """Run one change of service/auth/accounts.py as the CLI; print `done` or the reason it was not made."""
    from service.auth.accounts import CLI, AccountError

    try:
        with site_session(settings) as (session, _site):
            change(session, *args, CLI)
    except AccountError as exc:
        return fail(str(exc))
    print(done)
    return 0


def cmd_users_disable(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth.accounts import disable_user

    done = f"user {args.username!r} disabled: sessions ended, logins refused"
    return _change(settings, done, disable_user, args.username)


def cmd_users_enable(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth.accounts import enable_user

    return _change(settings, f"user {args.username!r} enabled", enable_user, args.username)


def cmd_users_unlock(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth.accounts import unlock_user

    return _change(settings, f"user {args.username!r} unlocked", unlock_user, args.username)


def cmd_users_reset_password(args: argparse.Namespace, settings: Settings) -> int:
    """Set a new password: from standard input, or a random one printed once on standard output."""
    from service.auth.accounts import CLI, AccountError, reset_password

    given = sys.stdin.readline().rstrip("\n") if args.password_stdin else None
    try:
        with site_session(settings) as (session, _site):
            password = reset_password(session, args.username, CLI, given)
    except AccountError as exc:
        return fail(str(exc))
    if given is None:
        print(password)
        print(f"(new password of {args.username!r}; shown once; their sessions ended)", file=sys.stderr)
    else:
        print(f"password of {args.username!r} changed; their sessions ended")
    return 0


def env_name(username: str) -> str:
    """A shell variable name for a username: 'pm-lanting' -> 'PM_LANTING' (letters, digits, '_')."""
    name = re.sub(r"[^A-Za-z0-9]", "_", username).upper()
    return name if not name[:1].isdigit() else f"U_{name}"


def cmd_users_demo(args: argparse.Namespace, settings: Settings) -> int:
    """One user per role for the demo site, once; written to <data_dir>/demo-users.env (mode 600) as
    NAME_USER=... and NAME_PASSWORD=... lines: `set -a; . data/demo-users.env; set +a` exports them."""
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
    lines = ["# clearway demo users (log in at /web/login); export with: set -a; . demo-users.env; set +a"]
    try:
        with db.session() as session:
            for username, role, agency in people:
                if session.scalars(select(User).where(User.username == username)).first() is not None:
                    print(f"user {username!r} exists already: skipped", file=sys.stderr)
                    continue
                password = secrets.token_urlsafe(12)  # [A-Za-z0-9_-]: safe unquoted in a shell
                create_user(session, username, password, role, agency, display_name=username)
                audit(session, None, "user.create", "user", username, f"role {role} (demo)", actor="cli", via="cli")
                lines.append(f"# {role}{' ' + agency if agency else ''}")
                lines += [f"{env_name(username)}_USER={username}", f"{env_name(username)}_PASSWORD={password}"]
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
    users.add_parser("list", help="every user: role, agency, last login, lock, disabled").set_defaults(
        func=cmd_users_list
    )
    for name, func, what in (
        ("disable", cmd_users_disable, "refuse a user's logins and end their sessions"),
        ("enable", cmd_users_enable, "let a disabled user log in again"),
        ("unlock", cmd_users_unlock, "lift the lock that failed logins put on a user"),
    ):
        command = users.add_parser(name, help=what)
        command.add_argument("username")
        command.set_defaults(func=func)
    reset = users.add_parser("reset-password", help="set a new password (random and printed once, or from stdin)")
    reset.add_argument("username")
    reset.add_argument("--password-stdin", action="store_true", help="read the new password from standard input")
    reset.set_defaults(func=cmd_users_reset_password)
    users.add_parser("demo", help="one user per role for the demo site").set_defaults(func=cmd_users_demo)

    export = sub.add_parser("export", help="export data").add_subparsers(dest="export_command", required=True)
    labelled = export.add_parser("labelled", help="confirmed/dismissed hazards as labelled training examples")
    labelled.add_argument("out_dir")
    labelled.set_defaults(func=cmd_export_labelled)
