"""The read path of the API's list and get endpoints, shared by all of them.

- A read is a Core SELECT of the output columns only (no ORM instances), run on a pooled connection
  in autocommit: no BEGIN and no ROLLBACK around it. A connection that turns out dead is replaced
  and the statement retried once (database.read_rows).
- A list page and its total come from one statement: the rows of the page plus one (so `has_more`
  is exact) with the total as a scalar subquery: the exact count kept per organization and status
  (`exact_count`, services.resource_counts) when the filters allow, else the bounded count
  (TOTAL_COUNT_CAP rows past the page).
- The rows (as dicts) are validated and written by the response model's TypeAdapter in one call
  each, as the same bytes jsonify wrote before (see wire), and spliced into the envelope as bytes.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from pydantic import BaseModel

from ..database import read_rows
from ..services.scoping import TOTAL_COUNT_CAP
from . import wire
from .envelope import meta


def respond_bytes(data: bytes, *, status: int = 200, **meta_extra):
    """The envelope {data, meta, success} around `data` (JSON bytes), spliced as bytes."""
    body = b'{"data":' + data + b',"meta":' + wire.jsonify_bytes(meta(**meta_extra)) + b',"success":true}\n'
    return current_app.response_class(body, status=status, mimetype="application/json")


def respond(data, **meta_extra):
    """The envelope around a JSON value."""
    return respond_bytes(wire.jsonify_bytes(data), **meta_extra)


def respond_model(model: type[BaseModel], data, *, many: bool = False):
    return respond_bytes(wire.model_bytes(model, data, many=many))


def respond_page(model: type[BaseModel], page: "Page"):
    pagination = {"total": page.total, "limit": page.limit, "offset": page.offset, "has_more": page.has_more}
    return respond_bytes(wire.model_bytes(model, page.rows, many=True), pagination=pagination)


@dataclass(frozen=True)
class Page:
    rows: list
    total: int
    limit: int
    offset: int
    has_more: bool


def page(
    columns: Sequence,
    where: Sequence,
    *,
    order_by: Sequence,
    limit: int,
    offset: int,
    exact_count: sa.ScalarSelect | None = None,
) -> Page:
    """One page of `columns` (rows matching `where`), with the total read in the same statement:
    `exact_count` (a scalar subquery) when given, else the count up to TOTAL_COUNT_CAP rows past
    the page."""
    count = exact_count if exact_count is not None else _bounded_count(where, limit, offset)
    statement = sa.select(*columns, count.label("total_count")).where(*where)
    rows = read_rows(statement.order_by(*order_by).limit(limit + 1).offset(offset))
    has_more = len(rows) > limit
    rows = rows[:limit]
    if rows:
        total = rows[0]["total_count"]
    elif offset:  # past the end: the page carried no count
        total = read_rows(sa.select(count.label("total_count")))[0]["total_count"]
    else:
        total = 0
    return Page(rows, total, limit, offset, has_more)


def _bounded_count(where: Sequence, limit: int, offset: int):
    matching = sa.select(sa.literal(1)).where(*where).limit(offset + limit + TOTAL_COUNT_CAP)
    return sa.select(sa.func.count()).select_from(matching.subquery()).scalar_subquery()


def one(statement):
    """The single row of `statement`, or None."""
    rows = read_rows(statement.limit(1))
    return rows[0] if rows else None
