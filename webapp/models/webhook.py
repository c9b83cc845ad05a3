from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import IdMixin, JSONType, OrgOwnedMixin, TimestampMixin, UTCDateTime, utcnow

DELIVERY_STATUSES = ("pending", "retrying", "delivered", "failed")


class WebhookDelivery(IdMixin, TimestampMixin, OrgOwnedMixin, db.Model):
    """One event to one URL; `id` doubles as the event id receivers deduplicate on."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("call_id", "event_type", name="uq_delivery_call_event"),
        sa.Index("ix_deliveries_status_due", "status", "next_attempt_at"),
    )

    call_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[str] = mapped_column(sa.String(36))
    event_type: Mapped[str] = mapped_column(sa.String(40))
    url: Mapped[str] = mapped_column(sa.String(2048))
    payload: Mapped[dict] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(sa.String(20), default="pending")
    attempt_count: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attempts = relationship(
        "WebhookAttempt",
        order_by="WebhookAttempt.number",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class WebhookAttempt(db.Model):
    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None] = mapped_column(sa.Integer)
    latency_ms: Mapped[int | None] = mapped_column(sa.Integer)
    error: Mapped[str | None] = mapped_column(sa.Text)
