"""agents: dynamic variable defaults and ring timeout; calls: cost in credits and in USD

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 21:40:00.000000

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')

# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dynamic_variables', JSON, nullable=True))
        batch_op.add_column(sa.Column('ringing_timeout_secs', sa.Integer(), nullable=True))
    op.execute("UPDATE agents SET dynamic_variables = '{}'")
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.alter_column('dynamic_variables', existing_type=JSON, nullable=False)
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.alter_column('cost', new_column_name='cost_credits', existing_type=sa.Float())
        batch_op.add_column(sa.Column('cost_usd', sa.Float(), nullable=True))


def downgrade():
    with op.batch_alter_table('calls', schema=None) as batch_op:
        batch_op.drop_column('cost_usd')
        batch_op.alter_column('cost_credits', new_column_name='cost', existing_type=sa.Float())
    with op.batch_alter_table('agents', schema=None) as batch_op:
        batch_op.drop_column('ringing_timeout_secs')
        batch_op.drop_column('dynamic_variables')
