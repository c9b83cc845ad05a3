"""Tenant scoping: every read of a tenant row goes through here, filtered by organization."""

import sqlalchemy as sa

from ..errors import NotFound
from ..extensions import db


def owned(model, organization_id: str):
    """SELECT of `model` restricted to one organization."""
    return sa.select(model).where(model.organization_id == organization_id)


def get_owned(model, object_id: str, organization_id: str, resource: str):
    """The row with this id in this organization, else NotFound (another org's id is a 404)."""
    row = db.session.execute(owned(model, organization_id).where(model.id == str(object_id)[:36])).scalar_one_or_none()
    if row is None:
        raise NotFound(resource)
    return row


def page(statement, *, order_by, limit: int, offset: int) -> tuple[list, int]:
    total = db.session.execute(sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(statement.order_by(*order_by).limit(limit).offset(offset)).scalars()
    return list(rows.unique()), total


def apply_fields(row, fields: dict) -> None:
    for name, value in fields.items():
        setattr(row, name, value)
