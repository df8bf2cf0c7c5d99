"""cluster workers (heartbeats of the worker processes) and partition leases (who applies which camera partition's
frames, until when, under which fencing epoch)

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

import service.store.db

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cluster_workers",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_cluster_workers_heartbeat_at", "cluster_workers", ["heartbeat_at"])
    op.create_table(
        "partition_leases",
        sa.Column("partition", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("owner_id", sa.String(length=128), nullable=True),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("expires_at", service.store.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handed_over", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("partition"),
    )
    op.create_index("ix_partition_leases_owner_id", "partition_leases", ["owner_id"])


def downgrade() -> None:
    op.drop_index("ix_partition_leases_owner_id", table_name="partition_leases")
    op.drop_table("partition_leases")
    op.drop_index("ix_cluster_workers_heartbeat_at", table_name="cluster_workers")
    op.drop_table("cluster_workers")
