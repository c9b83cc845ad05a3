from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import IdMixin, JSONType, OrgOwnedMixin, TimestampMixin, UTCDateTime

CALL_STATUSES = ("initiated", "in_progress", "completed", "failed")
ACTIVE_CALL_STATUSES = ("initiated", "in_progress")
TERMINAL_CALL_STATUSES = ("completed", "failed")


class Call(IdMixin, TimestampMixin, OrgOwnedMixin, db.Model):
    __tablename__ = "calls"
    __table_args__ = (
        sa.Index("ix_calls_org_created", "organization_id", "created_at"),
        sa.Index("ix_calls_org_status_created", "organization_id", "status", "created_at"),
        sa.Index("ix_calls_org_agent_status_created", "organization_id", "agent_id", "status", "created_at"),
        sa.Index("ix_calls_status_updated", "status", "last_event_at"),
        sa.Index("ix_calls_provider_ref", "provider", "provider_call_id"),
        sa.Index("ix_calls_finalized", "finalized_at", "status"),
        sa.Index("ix_calls_recording_status", "recording_status"),
        sa.Index("ix_calls_campaign_status", "campaign_id", "status"),
    )

    task_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    agent_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("agents.id", ondelete="RESTRICT"), index=True)
    to_number: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(20), default="initiated")
    failure_reason: Mapped[str | None] = mapped_column(sa.String(40))
    end_reason: Mapped[str | None] = mapped_column(sa.String(40))
    error_message: Mapped[str | None] = mapped_column(sa.Text)
    provider: Mapped[str] = mapped_column(sa.String(20))
    provider_call_id: Mapped[str | None] = mapped_column(sa.String(100))
    provider_data: Mapped[dict] = mapped_column(JSONType, default=dict)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    duration_seconds: Mapped[float | None] = mapped_column(sa.Float)
    cost_credits: Mapped[float | None] = mapped_column(sa.Float)
    cost_usd: Mapped[float | None] = mapped_column(sa.Float)
    termination_reason: Mapped[str | None] = mapped_column(sa.String(200))
    events: Mapped[list] = mapped_column(JSONType, default=list)
    analysis: Mapped[dict | None] = mapped_column(JSONType)  # provider's analysis, if any
    report: Mapped[dict | None] = mapped_column(JSONType)
    recording_path: Mapped[str | None] = mapped_column(sa.String(500))
    recording_content_type: Mapped[str | None] = mapped_column(sa.String(50))
    # None until the call is finalized; then "pending" (being fetched), "stored" or "none" (with the
    # reason in recording_note).
    recording_status: Mapped[str | None] = mapped_column(sa.String(20))
    recording_note: Mapped[str | None] = mapped_column(sa.Text)
    placing_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the one placement's claim
    finalized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    campaign_id: Mapped[str | None] = mapped_column(sa.String(36), sa.ForeignKey("campaigns.id", ondelete="SET NULL"))
    attempt_number: Mapped[int] = mapped_column(sa.Integer, default=1, server_default="1")

    task = relationship("Task")
    agent = relationship("Agent")
    turns = relationship(
        "TranscriptTurn",
        order_by="TranscriptTurn.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_CALL_STATUSES

    @property
    def has_recording(self) -> bool:
        return self.recording_path is not None

    @property
    def transcript(self) -> list[dict]:
        return [turn.as_dict() for turn in self.turns]


class TranscriptTurn(db.Model):
    __tablename__ = "transcript_turns"

    call_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    role: Mapped[str] = mapped_column(sa.String(10))
    text: Mapped[str] = mapped_column(sa.Text)
    start_seconds: Mapped[float] = mapped_column(sa.Float)
    end_seconds: Mapped[float] = mapped_column(sa.Float)

    def as_dict(self) -> dict:
        return {
            "role": self.role,
            "text": self.text,
            "start_seconds": self.start_seconds,
            "end_seconds": self.end_seconds,
        }
