"""campaign reports (weekly, final) and their deliveries through the outbox

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

import service.store.db

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.String(length=64), nullable=False),
        sa.Column("starts_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("made_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("made_by", sa.String(length=100), nullable=False),
        sa.Column("language", sa.String(length=4), nullable=False),
        sa.Column("figures", sa.JSON(), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("xlsx", sa.LargeBinary(), nullable=False),
        sa.Column("pdf_sha256", sa.String(length=64), nullable=False),
        sa.Column("xlsx_sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_reports")),
        sa.UniqueConstraint("kind", "period", "unit_id", name=op.f("uq_campaign_reports_kind")),
    )
    op.create_index(op.f("ix_campaign_reports_unit_id"), "campaign_reports", ["unit_id"], unique=False)
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.alter_column("hazard_id", existing_type=sa.Integer(), nullable=True)
        batch_op.alter_column("history_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("report_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_deliveries_report_id"), ["report_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_report_id_campaign_reports"),
            "campaign_reports",
            ["report_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    op.execute("DELETE FROM deliveries WHERE report_id IS NOT NULL")
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_deliveries_report_id_campaign_reports"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_deliveries_report_id"))
        batch_op.drop_column("report_id")
        batch_op.alter_column("history_id", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("hazard_id", existing_type=sa.Integer(), nullable=False)
    op.drop_index(op.f("ix_campaign_reports_unit_id"), table_name="campaign_reports")
    op.drop_table("campaign_reports")
