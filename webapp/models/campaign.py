"""Campaigns (an outbound calling program over many tasks) and the do-not-call list."""

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import IdMixin, JSONType, OrgOwnedMixin, TimestampMixin, UTCDateTime

CAMPAIGN_STATUSES = ("draft", "running", "paused", "completed", "cancelled")
OPEN_CAMPAIGN_STATUSES = ("draft", "running", "paused")
RETRYABLE_OUTCOMES = ("no_answer", "busy", "voicemail", "dropped")


class Campaign(IdMixin, TimestampMixin, OrgOwnedMixin, db.Model):
    __tablename__ = "campaigns"
    __table_args__ = (sa.Index("ix_campaigns_org_created", "organization_id", "created_at"),)

    name: Mapped[str] = mapped_column(sa.String(200))
    agent_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("agents.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default="draft", index=True)
    webhook_url: Mapped[str | None] = mapped_column(sa.String(2048))
    webhook_events: Mapped[list] = mapped_column(JSONType, default=list)
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # {"days": ["mon", ...], "start": "09:00", "end": "20:00"} in each callee's local time; None = any time
    calling_window: Mapped[dict | None] = mapped_column(JSONType)
    max_concurrent_calls: Mapped[int] = mapped_column(sa.Integer, default=10)
    max_attempts: Mapped[int] = mapped_column(sa.Integer, default=1)
    retry_on: Mapped[list] = mapped_column(JSONType, default=list)
    # minutes before attempt n+1: one number for every outcome, or {"no_answer": 60, "busy": 5, ...}
    backoff_minutes: Mapped[Any] = mapped_column(JSONType, default=60)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DncEntry(IdMixin, TimestampMixin, OrgOwnedMixin, db.Model):
    """A number the organization must not call. `source` is api, dashboard, import or call."""

    __tablename__ = "dnc_entries"
    __table_args__ = (sa.UniqueConstraint("organization_id", "number", name="uq_dnc_org_number"),)

    number: Mapped[str] = mapped_column(sa.String(20))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    source: Mapped[str] = mapped_column(sa.String(20), default="api")
    call_id: Mapped[str | None] = mapped_column(sa.String(36), sa.ForeignKey("calls.id", ondelete="SET NULL"))
