"""agents: what a bridged call does when an answering machine answers

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 22:00:00.000000

"""
import sqlalchemy as sa
from alembic import op


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('voicemail_action', sa.String(length=20), nullable=False,
                                      server_default='hang_up'))
        batch_op.add_column(sa.Column('voicemail_message', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('voicemail_message')
        batch_op.drop_column('voicemail_action')
