"""What every `clearway` command shares: how it reports an error, and a migrated database with the site synced."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.orm import Session

from service.config.settings import Settings
from service.config.site import Site, load_site
from service.store.db import Database


def fail(message: str) -> int:
    """Print the error for a person and return the exit status 2 (bad usage or input)."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def database_with_site(settings: Settings, site: Site | None = None) -> Database:
    """The configured database, migrated, with the site file's agencies, compounds and cameras mirrored in."""
    from service.store.migrate import upgrade
    from service.store.site_sync import sync_site

    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    with db.session() as session:
        sync_site(session, site or load_site(settings.site_file))
    return db


@contextmanager
def site_session(settings: Settings) -> Iterator[tuple[Session, Site]]:
    """One command's transaction on the migrated, synced database, with the site (read once); disposed after."""
    site = load_site(settings.site_file)
    db = database_with_site(settings, site)
    try:
        with db.session() as session:
            yield session, site
    finally:
        db.dispose()


def agency_roles(site: Site) -> list[tuple[str, str]]:
    """(agency id, role) for every agency whose people log in or hold keys (the demo makes one of each)."""
    from service.auth.keys import ROLE_FOR_AGENCY_KIND

    return [(a.id, ROLE_FOR_AGENCY_KIND[a.kind.value]) for a in site.agencies if a.kind.value in ROLE_FOR_AGENCY_KIND]


def write_secrets(target: Path, lines: list[str]) -> None:
    """Credentials for the demo, readable by their owner only (mode 600)."""
    target.write_text("\n".join(lines) + "\n")
    target.chmod(0o600)
