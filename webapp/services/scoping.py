"""Tenant scoping: every read of a tenant row goes through here, filtered by organization."""

import sqlalchemy as sa

from ..errors import NotFound
from ..extensions import db
from ..ids import canonical_id


def owned(model, organization_id: str):
    """SELECT of `model` restricted to one organization."""
    return sa.select(model).where(model.organization_id == organization_id)


def get_owned(model, object_id: str, organization_id: str, resource: str):
    """The row with this id in this organization, else NotFound (another org's id is a 404)."""
    object_id = canonical_id(object_id, resource)  # "<id>-junk", "<id>%00", ... name no row
    row = db.session.execute(owned(model, organization_id).where(model.id == object_id)).scalar_one_or_none()
    if row is None:
        raise NotFound(resource)
    return row


TOTAL_COUNT_CAP = 10_000  # rows counted past the requested page; beyond that, the total is a lower bound


def page(statement, *, order_by, limit: int, offset: int, known_total: int | None = None) -> tuple[list, int]:
    """One page of rows and the total: `known_total` when the caller has it (services.resource_counts),
    else counted exactly up to TOTAL_COUNT_CAP rows past the page (counting costs a scan of every
    matching row; has_more stays exact either way)."""
    total = known_total
    if total is None:
        counted = statement.order_by(None).limit(offset + limit + TOTAL_COUNT_CAP).subquery()
        total = db.session.execute(sa.select(sa.func.count()).select_from(counted)).scalar_one()
    rows = db.session.execute(statement.order_by(*order_by).limit(limit).offset(offset)).scalars()
    return list(rows.unique()), total


def apply_fields(row, fields: dict) -> None:
    for name, value in fields.items():
        setattr(row, name, value)
