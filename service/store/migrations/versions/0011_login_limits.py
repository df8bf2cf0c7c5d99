"""login limits: failed sign-ins counted per attempted name and per client address, in the database (so
every process sees them); the per-user lock columns go (the name counter replaces them)

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

import service.store.db

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_limits",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_start", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("locked_until", service.store.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("strikes", sa.Integer(), nullable=False),
        sa.Column("updated_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_limits")),
        sa.UniqueConstraint("scope", "subject", name="uq_login_limits_scope_subject"),
    )
    with op.batch_alter_table("login_limits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_limits_updated_at"), ["updated_at"], unique=False)
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")


def downgrade() -> None:
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("locked_until", service.store.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("login_limits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_limits_updated_at"))
    op.drop_table("login_limits")
