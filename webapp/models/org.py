"""The organization aggregate: organizations, users, memberships, invites and API keys."""

import hashlib
import secrets
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import IdMixin, OrgOwnedMixin, TimestampMixin, UTCDateTime

ROLES = ("owner", "admin", "member", "viewer")
ADMIN_ROLES = ("owner", "admin")
OPERATOR_ROLES = ("owner", "admin", "member")  # may run agents, tasks and calls; viewers only read
API_KEY_PREFIX = "va_"


def hash_token(token: str) -> str:
    """Digest for high-entropy secrets (API keys, invite tokens): only this is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def new_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Organization(IdMixin, TimestampMixin, db.Model):
    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(sa.String(200))
    webhook_secret: Mapped[str] = mapped_column(sa.String(100), default=new_webhook_secret)
    # Comma-separated ISO 3166 region codes calls may go to; None: the default for the provider.
    allowed_countries: Mapped[str | None] = mapped_column(sa.String(400))
    max_concurrent_calls: Mapped[int] = mapped_column(sa.Integer, default=10, server_default="10")
    # IANA name: dates in reports, the overview's days, calling windows for numbers without a zone.
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="UTC", server_default="UTC")
    # ISO 3166 code for numbers typed without a country code in the dashboard.
    default_phone_region: Mapped[str] = mapped_column(sa.String(2), default="US", server_default="US")
    # Bumped by every dispatch decision: the row lock that serializes slot counting per organization.
    dispatch_seq: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    memberships = relationship("Membership", back_populates="organization", cascade="all")


class User(IdMixin, TimestampMixin, UserMixin, db.Model):
    __tablename__ = "users"

    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    # Sessions issued under an older version are over (log out, password change, removal).
    session_version: Mapped[int] = mapped_column(sa.Integer, default=0, server_default="0")

    memberships = relationship("Membership", back_populates="user", cascade="all")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)


class Membership(IdMixin, TimestampMixin, OrgOwnedMixin, db.Model):
    __tablename__ = "memberships"
    __table_args__ = (sa.UniqueConstraint("user_id", "organization_id"),)

    user_id: Mapped[str] = mapped_column(sa.String(36), sa.ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(sa.String(20), default="member")

    user = relationship("User", back_populates="memberships")
    organization = relationship("Organization", back_populates="memberships")

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def can_operate(self) -> bool:
        return self.role in OPERATOR_ROLES


class Invite(IdMixin, TimestampMixin, OrgOwnedMixin, db.Model):
    __tablename__ = "invites"

    email: Mapped[str] = mapped_column(sa.String(320))
    role: Mapped[str] = mapped_column(sa.String(20), default="member")
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    invited_by_id: Mapped[str | None] = mapped_column(sa.String(36), sa.ForeignKey("users.id", ondelete="SET NULL"))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiKey(IdMixin, TimestampMixin, OrgOwnedMixin, db.Model):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(sa.String(100), default="")
    prefix: Mapped[str] = mapped_column(sa.String(16))  # "va_" + first 8 characters, for display
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[str | None] = mapped_column(sa.String(36), sa.ForeignKey("users.id", ondelete="SET NULL"))
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization = relationship("Organization")

    @staticmethod
    def generate_plaintext() -> str:
        return API_KEY_PREFIX + secrets.token_urlsafe(32)  # 43 random characters

    def assign_secret(self, plaintext: str) -> None:
        self.key_hash = hash_token(plaintext)
        self.prefix = plaintext[: len(API_KEY_PREFIX) + 8]
