"""resource_counts: per-organization row counts by resource and status, backfilled from the rows

The list endpoints' `total` reads these instead of counting rows. The application keeps them in
the transaction of every change (webapp.services.resource_counts); `flask recount-resources`
rebuilds them from the rows.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 01:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

AGENT_STATUS = "CASE WHEN deleted_at IS NOT NULL THEN 'deleted' WHEN enabled THEN 'enabled' ELSE 'disabled' END"
BACKFILL = {"calls": "status", "tasks": "status", "campaigns": "status", "agents": AGENT_STATUS}


def upgrade():
    op.create_table(
        "resource_counts",
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.Column("resource", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("n", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("organization_id", "resource", "status"),
    )
    for table, status in BACKFILL.items():
        op.execute(
            f"INSERT INTO resource_counts (organization_id, resource, status, n) "
            f"SELECT organization_id, '{table}', {status}, COUNT(*) FROM {table} GROUP BY organization_id, {status}"
        )


def downgrade():
    op.drop_table("resource_counts")
