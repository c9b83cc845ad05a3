"""due work on the rows: placement claim, recording state, sweep indexes

Every side effect of a committed change is found again from the rows: an unplaced call, a terminal
call without finalized_at, a recording still pending, a delivery whose next_attempt_at has come.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29 21:50:00.000000

"""

import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("placing_started_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("recording_status", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("recording_note", sa.Text(), nullable=True))
        batch_op.create_index("ix_calls_finalized", ["finalized_at", "status"], unique=False)
        batch_op.create_index("ix_calls_recording_status", ["recording_status"], unique=False)
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.create_index("ix_deliveries_status_due", ["status", "next_attempt_at"], unique=False)


def downgrade():
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_index("ix_deliveries_status_due")
    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_index("ix_calls_recording_status")
        batch_op.drop_index("ix_calls_finalized")
        batch_op.drop_column("recording_note")
        batch_op.drop_column("recording_status")
        batch_op.drop_column("placing_started_at")
