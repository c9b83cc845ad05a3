from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import IdMixin, JSONType, OrgOwnedMixin, TimestampMixin, UTCDateTime

TASK_STATUSES = ("pending", "in_progress", "completed", "failed")
WEBHOOK_EVENTS = ("call_started", "call_completed", "call_failed")


class Task(IdMixin, TimestampMixin, OrgOwnedMixin, db.Model):
    __tablename__ = "tasks"
    __table_args__ = (
        sa.Index("ix_tasks_org_created", "organization_id", "created_at"),
        sa.Index("ix_tasks_due", "status", "scheduled_at", "priority"),
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

    agent = relationship("Agent", lazy="joined")
