"""hazards may be put under legal hold: the retention clean-up never deletes what such a hazard keeps

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hazard_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("legal_hold", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("hazard_events", schema=None) as batch_op:
        batch_op.drop_column("legal_hold")
