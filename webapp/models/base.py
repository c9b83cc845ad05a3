"""Column helpers shared by every model: UUID ids, UTC timestamps, organization scoping."""

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def new_id() -> str:
    return str(uuid.uuid4())


class UTCDateTime(TypeDecorator):
    """Stores UTC datetimes and always hands back timezone-aware ones (SQLite drops tzinfo)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        if value is not None and dialect.name == "sqlite":
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value

    def result_processor(self, dialect, coltype):
        # PostgreSQL's timestamptz always comes back aware (psycopg): nothing to do per value, and a
        # list page reads hundreds.
        if dialect.name == "postgresql":
            return None
        return super().result_processor(dialect, coltype)


JSONType = sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql")


class IdMixin:
    id: Mapped[str] = mapped_column(sa.String(36), primary_key=True, default=new_id)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)


class OrgOwnedMixin:
    """Every tenant row carries its organization; services always filter on it."""

    organization_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
