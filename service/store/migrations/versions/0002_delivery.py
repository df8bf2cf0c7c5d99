"""delivery outbox and escalation (issue 3)

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import service.store.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hazard_escalations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("due_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("agency_ids", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hazard_id"],
            ["hazard_events.id"],
            name=op.f("fk_hazard_escalations_hazard_id_hazard_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hazard_escalations")),
        sa.UniqueConstraint("hazard_id", "stage", name=op.f("uq_hazard_escalations_hazard_id")),
    )
    with op.batch_alter_table("hazard_escalations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hazard_escalations_hazard_id"), ["hazard_id"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("hazard_id", sa.Integer(), nullable=False),
        sa.Column("history_id", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("agency_id", sa.String(length=64), nullable=False),
        sa.Column("agency_kind", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("channel_type", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", service.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("delivered_at", service.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agencies.id"], name=op.f("fk_deliveries_agency_id_agencies")),
        sa.ForeignKeyConstraint(
            ["hazard_id"], ["hazard_events.id"], name=op.f("fk_deliveries_hazard_id_hazard_events"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["history_id"],
            ["hazard_history.id"],
            name=op.f("fk_deliveries_history_id_hazard_history"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_deliveries_idempotency_key")),
    )
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_agency_id"), ["agency_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_hazard_id"), ["hazard_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_deliveries_history_id"), ["history_id"], unique=False)
        batch_op.create_index("ix_deliveries_status_due", ["status", "next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_due")
        batch_op.drop_index(batch_op.f("ix_deliveries_history_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_hazard_id"))
        batch_op.drop_index(batch_op.f("ix_deliveries_agency_id"))
    op.drop_table("deliveries")
    with op.batch_alter_table("hazard_escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hazard_escalations_hazard_id"))
    op.drop_table("hazard_escalations")
