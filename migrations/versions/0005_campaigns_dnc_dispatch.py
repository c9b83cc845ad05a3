"""campaigns, do-not-call list, dispatch queue

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 21:28:01.327325

Campaigns group tasks under one calling program (window, caps, retries); tasks gain their
dispatch queue fields and attempts, calls their campaign and attempt number, organizations their
concurrent-call cap; the do-not-call list is per organization.

"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "campaigns",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("agent_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("webhook_url", sa.String(length=2048), nullable=True),
        sa.Column(
            "webhook_events",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("start_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "calling_window",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("max_concurrent_calls", sa.Integer(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column(
            "retry_on", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=False
        ),
        sa.Column(
            "backoff_minutes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaigns_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index("ix_campaigns_org_created", ["organization_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaigns_organization_id"), ["organization_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaigns_status"), ["status"], unique=False)

    op.create_table(
        "dnc_entries",
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("call_id", sa.String(length=36), nullable=True),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("organization_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["call_id"], ["calls.id"], ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["organization_id"], ["organizations.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("organization_id", "number", name="uq_dnc_org_number"),
    )
    with op.batch_alter_table("dnc_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dnc_entries_organization_id"), ["organization_id"], unique=False)

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("attempt_number", sa.Integer(), server_default="1", nullable=False))
        batch_op.create_index("ix_calls_campaign_status", ["campaign_id", "status"], unique=False)
        batch_op.create_foreign_key("fk_calls_campaign_id", "campaigns", ["campaign_id"], ["id"], ondelete="SET NULL")

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("max_concurrent_calls", sa.Integer(), server_default="10", nullable=False))
        batch_op.add_column(sa.Column("dispatch_seq", sa.Integer(), server_default="0", nullable=False))

    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("campaign_id", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("attempt_count", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("dispatch_after", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("status_reason", sa.String(length=40), nullable=True))
        batch_op.create_index("ix_tasks_campaign_status", ["campaign_id", "status"], unique=False)
        batch_op.create_index("ix_tasks_dispatch", ["status", "dispatch_after"], unique=False)
        batch_op.create_index("ix_tasks_org_number", ["organization_id", "to_number"], unique=False)
        batch_op.create_foreign_key("fk_tasks_campaign_id", "campaigns", ["campaign_id"], ["id"], ondelete="CASCADE")


def downgrade():
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_constraint("fk_tasks_campaign_id", type_="foreignkey")
        batch_op.drop_index("ix_tasks_org_number")
        batch_op.drop_index("ix_tasks_dispatch")
        batch_op.drop_index("ix_tasks_campaign_status")
        batch_op.drop_column("status_reason")
        batch_op.drop_column("dispatch_after")
        batch_op.drop_column("attempt_count")
        batch_op.drop_column("campaign_id")

    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_column("dispatch_seq")
        batch_op.drop_column("max_concurrent_calls")

    with op.batch_alter_table("calls", schema=None) as batch_op:
        batch_op.drop_constraint("fk_calls_campaign_id", type_="foreignkey")
        batch_op.drop_index("ix_calls_campaign_status")
        batch_op.drop_column("attempt_number")
        batch_op.drop_column("campaign_id")

    with op.batch_alter_table("dnc_entries", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dnc_entries_organization_id"))

    op.drop_table("dnc_entries")
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaigns_status"))
        batch_op.drop_index(batch_op.f("ix_campaigns_organization_id"))
        batch_op.drop_index("ix_campaigns_org_created")
        batch_op.drop_index(batch_op.f("ix_campaigns_agent_id"))

    op.drop_table("campaigns")
