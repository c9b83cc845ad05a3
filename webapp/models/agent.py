from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import IdMixin, JSONType, OrgOwnedMixin, TimestampMixin, UTCDateTime

SYNC_STATUSES = ("not_required", "pending", "synced", "failed")


class Agent(IdMixin, TimestampMixin, OrgOwnedMixin, db.Model):
    __tablename__ = "agents"

    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    system_prompt: Mapped[str] = mapped_column(sa.Text)
    starting_message: Mapped[str | None] = mapped_column(sa.Text)
    language: Mapped[str] = mapped_column(sa.String(16), default="en")
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True, index=True)
    voice_settings: Mapped[dict] = mapped_column(JSONType, default=dict)
    dtmf_rules: Mapped[dict] = mapped_column(JSONType, default=dict)
    # Defaults of the {{variables}} the prompt and first message use (a task's context_data wins).
    dynamic_variables: Mapped[dict] = mapped_column(JSONType, default=dict)
    ringing_timeout_secs: Mapped[int | None] = mapped_column(sa.Integer)
    # When an answering machine answers a bridged call: hang_up, or leave_message (after the beep).
    voicemail_action: Mapped[str] = mapped_column(sa.String(20), default="hang_up", server_default="hang_up")
    voicemail_message: Mapped[str | None] = mapped_column(sa.Text)
    # Mirror of the agent at the telephony provider (ElevenLabs), when it needs one.
    remote_agent_id: Mapped[str | None] = mapped_column(sa.String(100))
    sync_status: Mapped[str] = mapped_column(sa.String(20), default="not_required")
    sync_error: Mapped[str | None] = mapped_column(sa.Text)
    # Deleted agents keep their rows so the tasks and calls that used them keep their history.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
