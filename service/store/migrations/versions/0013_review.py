"""review answers: a hazard a property company disputed ("not an obstruction / please review") waits for the
police's decision; the flag marks it for the review queue

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hazard_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disputed", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("hazard_events", schema=None) as batch_op:
        batch_op.drop_column("disputed")
