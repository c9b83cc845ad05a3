from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import IdMixin, JSONType, OrgOwnedMixin, TimestampMixin, UTCDateTime

TASK_STATUSES = ("pending", "in_progress", "completed", "failed", "skipped")
WEBHOOK_EVENTS = ("call_started", "call_completed", "call_failed")


class Task(IdMixin, TimestampMixin, OrgOwnedMixin, db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        sa.Index("ix_tasks_org_created", "organization_id", "created_at"),
        sa.Index("ix_tasks_due", "status", "scheduled_at", "priority"),
        sa.Index("ix_tasks_dispatch", "status", "dispatch_after"),
        sa.Index("ix_tasks_campaign_status", "campaign_id", "status"),
        sa.Index("ix_tasks_org_number", "organization_id", "to_number"),
    )

    agent_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("agents.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    to_number: Mapped[str] = mapped_column(sa.String(20))
    starting_message: Mapped[str | None] = mapped_column(sa.Text)
    context_data: Mapped[dict] = mapped_column(JSONType, default=dict)
    priority: Mapped[int] = mapped_column(sa.Integer, default=0)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    webhook_url: Mapped[str | None] = mapped_column(sa.String(2048))
    webhook_events: Mapped[list] = mapped_column(JSONType, default=list)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    last_call_id: Mapped[str | None] = mapped_column(sa.String(36))
    executed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    campaign_id: Mapped[str | None] = mapped_column(sa.String(36), sa.ForeignKey("campaigns.id", ondelete="CASCADE"))
    attempt_count: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")
    # In the dispatch queue (dialled by the dispatcher once due and a slot is free) when set.
    dispatch_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why a task waits or ended as it did: queued, waiting_for_window, retry_scheduled, do_not_call,
    # campaign_cancelled, campaign_ended, no_calling_window, or the last call's failure reason.
    status_reason: Mapped[str | None] = mapped_column(sa.String(40))

    agent = relationship("Agent", lazy="joined")
    # Every attempt is a call (oldest first); read for one task at a time.
    attempts = relationship(
        "Call", primaryjoin="Call.task_id == Task.id", order_by="(Call.created_at, Call.id)", viewonly=True
    )
