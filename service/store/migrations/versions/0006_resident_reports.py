"""resident reports through Open311: tracking codes and reporters' contacts, apart from the hazards

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

import service.store.db

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resident_reports",
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("tracking_code", sa.String(length=32), nullable=False),
        sa.Column("address_string", sa.String(length=300), nullable=False),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("long", sa.Float(), nullable=True),
        sa.Column("media_url", sa.String(length=500), nullable=False),
        sa.Column("first_name", sa.String(length=100), nullable=False),
        sa.Column("last_name", sa.String(length=100), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=50), nullable=False),
        sa.Column("created_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["hazard_events.id"],
            name=op.f("fk_resident_reports_hazard_id_hazard_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hazard_id", name=op.f("pk_resident_reports")),
        sa.UniqueConstraint("tracking_code", name=op.f("uq_resident_reports_tracking_code")),
    )


def downgrade() -> None:
    op.drop_table("resident_reports")
