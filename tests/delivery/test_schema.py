"""Migration 0002 creates exactly the delivery tables and its downgrade removes exactly them."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from service.store.db import Database
from service.store.delivery_models import Delivery, HazardEscalation
from service.store.migrate import alembic_config, upgrade

OURS = {Delivery.__tablename__, HazardEscalation.__tablename__}


def test_0002_up_and_down_touches_only_the_delivery_tables(database_url: str) -> None:
    db = Database(database_url)
    try:
        upgrade(db.engine, "0001")
        core = set(inspect(db.engine).get_table_names())
        upgrade(db.engine, "0002")
        assert set(inspect(db.engine).get_table_names()) - core == OURS
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("deliveries")}
        assert "ix_deliveries_status_due" in indexes
        config = alembic_config(db.engine.url.render_as_string(hide_password=False))
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0001")
        assert set(inspect(db.engine).get_table_names()) == core
        upgrade(db.engine)
        assert set(inspect(db.engine).get_table_names()) >= OURS
    finally:
        db.dispose()
