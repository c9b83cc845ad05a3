"""The read path of the API's list and get endpoints, shared by all of them.

- A read is a Core SELECT of the output columns only (no ORM instances), built once (at import, or
  once per shape of a list's filters) with bound parameters, so a request neither builds nor
  compiles SQL. It runs on a pooled connection in autocommit: no BEGIN and no ROLLBACK around it.
  A connection that turns out dead is replaced and the statement retried once (database.read_rows).
- A list page and its total come from one statement (see Listing).
- The rows (as dicts) are validated and written by the response model's TypeAdapter in one call
  each, as the same bytes jsonify wrote before (see wire), and spliced into the envelope as bytes.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from pydantic import BaseModel

from ..database import read_rows
from ..services import resource_counts
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


class Listing:
    """A list endpoint's statements, built once per shape (which filters are given, how the total
    is counted) with bound parameters: a request only binds its values. The rows of the page plus
    one (`has_more` is exact) come with the total as a scalar subquery: the exact count kept per
    organization and status (services.resource_counts) when the caller says it applies, else the
    count up to TOTAL_COUNT_CAP rows past the page."""

    def __init__(self, columns: Sequence, *, scope: Sequence, filters: dict, order_by: Sequence, counted: str):
        self.columns = tuple(columns)
        self.scope = tuple(scope)  # conditions on :organization_id (and any other fixed ones)
        self.filters = filters  # name -> column, compared with :name when the filter is given
        self.order_by = tuple(order_by)
        self.counted = counted  # the resource in resource_counts
        self._statements: dict[tuple, tuple[sa.Select, sa.Select]] = {}

    def page(self, organization_id: str, filters: dict, *, exact: bool, count_status: str | None = None,
             limit: int, offset: int) -> Page:  # fmt: skip
        """`filters`: name -> value (None: not given). `exact`: the filters given allow the exact
        count (of `count_status`, or of every listed status when None)."""
        given = {name: value for name, value in filters.items() if value is not None}
        exact = exact and resource_counts.counts_exactly(self.counted, count_status)
        rows_statement, count_statement = self._statements_for(tuple(sorted(given)), exact, count_status is not None)
        params = {
            "organization_id": organization_id,
            "count_status": count_status,
            **given,
            "page_limit": limit + 1,
            "page_offset": offset,
            "count_limit": offset + limit + TOTAL_COUNT_CAP,
        }
        rows = read_rows(rows_statement, params)
        has_more = len(rows) > limit
        rows = rows[:limit]
        if rows:
            total = rows[0]["total_count"]
        elif offset:  # past the end: the page carried no count
            total = read_rows(count_statement, params)[0]["total_count"]
        else:
            total = 0
        return Page(rows, total, limit, offset, has_more)

    def _statements_for(self, given: tuple, exact: bool, by_status: bool) -> tuple[sa.Select, sa.Select]:
        shape = (given, exact, by_status)
        statements = self._statements.get(shape)
        if statements is None:
            where = [*self.scope, *(self.filters[name] == sa.bindparam(name) for name in given)]
            if exact:
                count = resource_counts.total_subquery(self.counted, by_status=by_status)
            else:
                count = _bounded_count(where)
            rows = (
                sa.select(*self.columns, count.label("total_count"))
                .where(*where)
                .order_by(*self.order_by)
                .limit(sa.bindparam("page_limit", type_=sa.Integer))
                .offset(sa.bindparam("page_offset", type_=sa.Integer))
            )
            statements = self._statements[shape] = (rows, sa.select(count.label("total_count")))
        return statements


def _bounded_count(where: Sequence) -> sa.ScalarSelect:
    matching = sa.select(sa.literal(1)).where(*where).limit(sa.bindparam("count_limit", type_=sa.Integer))
    return sa.select(sa.func.count()).select_from(matching.subquery()).scalar_subquery()


def one(statement: sa.Select, params: dict):
    """The single row of `statement` (built once, with bound parameters), or None."""
    rows = read_rows(statement, params)
    return rows[0] if rows else None
