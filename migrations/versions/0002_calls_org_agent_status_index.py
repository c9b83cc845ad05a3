"""calls: index for the list filtered by agent (and status)

The list of calls filtered by agent_id (and status) had to visit every matching row of the
organization in the table to count them; this index answers both the page and the count.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 04:40:00.000000

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.create_index(
            'ix_calls_org_agent_status_created', ['organization_id', 'agent_id', 'status', 'created_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_index('ix_calls_org_agent_status_created')
