"""hazard history rows carry their action's parameters (rendered in the reader's language) and, when the
event is about a frame, the frame's capture time

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("hazard_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("params", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("captured_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hazard_history", schema=None) as batch_op:
        batch_op.drop_column("captured_at")
        batch_op.drop_column("params")
