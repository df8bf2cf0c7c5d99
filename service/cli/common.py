"""What every `clearway` command shares: how it reports an error, and a migrated database with the site synced."""

from __future__ import annotations

import sys

from service.config.settings import Settings
from service.config.site import load_site
from service.store.db import Database


def fail(message: str) -> int:
    """Print the error for a person and return the exit status 2 (bad usage or input)."""
    print(f"error: {message}", file=sys.stderr)
    return 2


def database_with_site(settings: Settings) -> Database:
    """The configured database, migrated, with the site file's agencies, compounds and cameras mirrored in."""
    from service.store.migrate import upgrade
    from service.store.site_sync import sync_site

    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    with db.session() as session:
        sync_site(session, load_site(settings.site_file))
    return db
