"""static-object background model per camera (issue 6)

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import service.store.db

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "static_scene_state",
        sa.Column("camera_id", sa.String(length=64), nullable=False),
        sa.Column("model", sa.LargeBinary(), nullable=False),
        sa.Column("last_captured_at", service.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["camera_id"], ["cameras.id"], name=op.f("fk_static_scene_state_camera_id_cameras")),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_static_scene_state")),
    )


def downgrade() -> None:
    op.drop_table("static_scene_state")
