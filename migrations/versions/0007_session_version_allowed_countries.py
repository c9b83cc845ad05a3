"""users.session_version (revocable sessions), organizations.allowed_countries (call destinations)

A session cookie carries the user's session version from when it was issued; bumping the version
(log out, log out everywhere, password change, removal from an organization) ends every session
issued before. allowed_countries is a comma-separated list of ISO 3166 region codes; NULL means the
default (the country of the organization's caller number).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 21:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('allowed_countries', sa.String(length=400), nullable=True))


def downgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('allowed_countries')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
