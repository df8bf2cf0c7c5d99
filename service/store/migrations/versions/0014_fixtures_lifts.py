"""fixtures (objects a reviewer marked as permanent, ignored where they stand until the mark expires) and lift
entries (e-bikes entering elevator zones, counted per lift and site day)

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import service.store.db

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fixtures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("zone_key", sa.String(length=64), nullable=True),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("class_name", sa.String(length=64), nullable=False),
        sa.Column("box", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("created_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", service.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=128), nullable=True),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazard_events.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_fixtures_camera_expires", "fixtures", ["camera_id", "expires_at"])
    op.create_table(
        "lift_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("engine_key", sa.String(length=200), nullable=False),
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("zone_key", sa.String(length=64), nullable=False),
        sa.Column("compound_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("class_name", sa.String(length=64), nullable=False),
        sa.Column("entered_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("frame_id", sa.String(length=32), nullable=True),
        sa.Column("hazard_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["hazard_id"], ["hazard_events.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("engine_key"),
    )
    op.create_index("ix_lift_entries_day", "lift_entries", ["day", "camera_id", "zone_key"])
    op.create_index("ix_lift_entries_compound_id", "lift_entries", ["compound_id"])


def downgrade() -> None:
    op.drop_index("ix_lift_entries_compound_id", table_name="lift_entries")
    op.drop_index("ix_lift_entries_day", table_name="lift_entries")
    op.drop_table("lift_entries")
    op.drop_index("ix_fixtures_camera_expires", table_name="fixtures")
    op.drop_table("fixtures")
