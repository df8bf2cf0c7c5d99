"""cooldown and digest: an "opened" the zone's cooldown holds back is a `held` delivery in a window; one
digest per window (unique `window_key`) lists the held hazards

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import service.store.db

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_digests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("window_key", sa.String(length=160), nullable=False),
        sa.Column("after_hazard_id", sa.Integer(), nullable=True),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("zone_key", sa.String(length=64), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("window_start", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("made_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("hazard_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["after_hazard_id"],
            ["hazard_events.id"],
            name=op.f("fk_delivery_digests_after_hazard_id_hazard_events"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_digests")),
        sa.UniqueConstraint("window_key", name=op.f("uq_delivery_digests_window_key")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("window_key", sa.String(length=160), nullable=True))
        batch_op.add_column(sa.Column("held_until", service.store.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("digest_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_deliveries_window_key"), ["window_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_digest_id"), ["digest_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_digest_id_delivery_digests"),
            "delivery_digests",
            ["digest_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE event = 'digest'")
    op.execute("UPDATE deliveries SET status = 'dead', last_error = 'held by a cooldown' WHERE status = 'held'")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_deliveries_digest_id_delivery_digests"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_deliveries_digest_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_window_key"))
        batch_op.drop_column("digest_id")
        batch_op.drop_column("held_until")
        batch_op.drop_column("window_key")
    op.drop_table("delivery_digests")
