"""organizations.time_zone and organizations.default_phone_region

time_zone is an IANA name (dates in reports and the overview, calling windows for numbers that have
no zone of their own); default_phone_region is the ISO 3166 code used for numbers typed without a
country code. Existing organizations keep today's behaviour: UTC and US.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 01:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('time_zone', sa.String(length=64), nullable=False, server_default='UTC'))
        batch_op.add_column(sa.Column('default_phone_region', sa.String(length=2), nullable=False,
                                      server_default='US'))


def downgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('default_phone_region')
        batch_op.drop_column('time_zone')
