"""Per-organization row counts by resource and status (services.resource_counts keeps them exact)."""

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ResourceCount(db.Model):
    __tablename__ = "resource_counts"

    organization_id: Mapped[str] = mapped_column(
        sa.String(36), sa.ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    resource: Mapped[str] = mapped_column(sa.String(20), primary_key=True)  # calls, tasks, agents, campaigns
    status: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    n: Mapped[int] = mapped_column(sa.BigInteger, default=0, server_default="0")
