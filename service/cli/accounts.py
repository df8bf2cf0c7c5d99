"""`clearway keys`: API keys for machines (create, list, revoke, the demo set)."""

from __future__ import annotations

import argparse
import sys

from service.auth.keys import ROLES
from service.cli.common import agency_roles, database_with_site, fail, site_session, write_secrets
from service.cli.tables import site_time, table
from service.config.settings import Settings
from service.config.site import load_site


def cmd_keys_create(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth.keys import KeyCreationError, create_key

    db = database_with_site(settings)
    try:
        with db.session() as session:
            key = create_key(session, args.name, args.role, args.agency, args.camera)
    except KeyCreationError as exc:
        return fail(str(exc))
    finally:
        db.dispose()
    print(key)
    print(f"(role {args.role}; shown once — store it now)", file=sys.stderr)
    return 0


def cmd_keys_list(args: argparse.Namespace, settings: Settings) -> int:
    """Every key with its prefix (what `revoke` takes), never its secret."""
    from service.auth.accounts import list_keys

    with site_session(settings) as (session, site):
        keys = list_keys(session)
    zone = site.zone
    headers = ("prefix", "name", "role", "agency", "cameras", "created", "revoked")
    rows = [
        (k.prefix, k.name, k.role, k.agency_id or "", ",".join(k.camera_ids), *times)
        for k in keys
        for times in [(site_time(k.created_at, zone), site_time(k.revoked_at, zone))]
    ]
    print(table(headers, rows) if rows else "no keys (create one with `clearway keys create`)")
    return 0


def cmd_keys_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from service.auth.accounts import CLI, AccountError, revoke_key

    try:
        with site_session(settings) as (session, _site):
            key = revoke_key(session, args.prefix, CLI)
    except AccountError as exc:
        return fail(str(exc))
    print(f"key {key.prefix} ({key.role}:{key.name}) revoked: it is refused from now on")
    return 0


def cmd_keys_demo(args: argparse.Namespace, settings: Settings) -> int:
    """Create one key per role for the demo site, once, and write them to <data_dir>/demo-keys.env
    (NAME_KEY=... lines: `set -a; . data/demo-keys.env; set +a` exports them)."""
    from service.auth.keys import create_key

    target = settings.data_dir / "demo-keys.env"
    if target.exists():
        print(f"demo keys already exist: {target}")
        return 0
    site = load_site(settings.site_file)
    db = database_with_site(settings)
    lines = []
    try:
        with db.session() as session:
            lines.append(f"ADMIN_KEY={create_key(session, 'demo-admin', 'admin')}")
            lines.append(f"COUNTY_KEY={create_key(session, 'demo-county', 'county')}")
            cameras = [c.id for c in site.cameras]
            lines.append(f"GATEWAY_KEY={create_key(session, 'demo-gateway', 'gateway', camera_ids=cameras)}")
            for agency_id, role in agency_roles(site):
                name = agency_id.upper().replace("-", "_")
                lines.append(f"{name}_KEY={create_key(session, agency_id, role, agency_id)}")
    finally:
        db.dispose()
    write_secrets(target, lines)
    print(f"demo keys written to {target}:\n" + "\n".join(lines))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="API keys").add_subparsers(dest="keys_command", required=True)
    create = keys.add_parser("create", help="create an API key (printed once)")
    create.add_argument("--name", required=True)
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument("--agency", help="agency id (property, police and fire roles)")
    create.add_argument("--camera", action="append", help="camera a gateway may push for (repeatable)")
    create.set_defaults(func=cmd_keys_create)
    keys.add_parser("list", help="every key: prefix, name, role, agency, cameras, created, revoked").set_defaults(
        func=cmd_keys_list
    )
    revoke = keys.add_parser("revoke", help="revoke a key (refused from its next request on)")
    revoke.add_argument("prefix", help="the key's prefix (`keys list`; the part after cw_)")
    revoke.set_defaults(func=cmd_keys_revoke)
    keys.add_parser("demo", help="create one key per role for the demo site").set_defaults(func=cmd_keys_demo)
