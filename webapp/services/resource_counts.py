"""Exact per-organization row counts by resource and status, read in O(1) for the lists' `total`.

`resource_counts` holds one row per (organization, resource, status). Every change that inserts,
deletes or moves a counted row between statuses adjusts it in the same transaction: ORM changes
through the session hook in services.count_tracking, bulk statements (which bypass the ORM) by
calling `adjust`/`moved` next to the statement. `recount` rebuilds the rows from the tables
(`flask recount-resources`).
"""

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Agent, Call, Campaign, ResourceCount, Task
from ..models.call import CALL_STATUSES
from ..models.campaign import CAMPAIGN_STATUSES
from ..models.task import TASK_STATUSES

DELTAS_KEY = "resource_count_deltas"


@dataclass(frozen=True)
class Counted:
    resource: str
    model: type
    columns: tuple[str, ...]  # the columns a row's status is derived from
    listed: tuple[str, ...]  # the statuses the resource's list shows (an unfiltered total sums these)
    status_of: Callable[[Mapping], str]
    status_sql: Callable[[], sa.ColumnElement]  # the same status as a SQL expression


def _agent_status(values: Mapping) -> str:
    if values["deleted_at"] is not None:
        return "deleted"
    return "enabled" if values["enabled"] else "disabled"


def _agent_status_sql() -> sa.ColumnElement:
    return sa.case((Agent.deleted_at.is_not(None), "deleted"), (Agent.enabled.is_(True), "enabled"), else_="disabled")


def _by_status(model) -> tuple[Callable, Callable]:
    return (lambda values: values["status"]), (lambda: model.status)


COUNTED = {
    "calls": Counted("calls", Call, ("status",), CALL_STATUSES, *_by_status(Call)),
    "tasks": Counted("tasks", Task, ("status",), TASK_STATUSES, *_by_status(Task)),
    "campaigns": Counted("campaigns", Campaign, ("status",), CAMPAIGN_STATUSES, *_by_status(Campaign)),
    "agents": Counted("agents", Agent, ("enabled", "deleted_at"), ("enabled", "disabled"), _agent_status,
                      _agent_status_sql),
}  # fmt: skip
COUNTED_BY_MODEL = {counted.model: counted for counted in COUNTED.values()}


def counts_exactly(resource: str, status: str | None) -> bool:
    """Whether the exact count applies to `resource` rows of `status` (None: every listed status)."""
    counted = COUNTED.get(resource)
    return counted is not None and (status is None or status in counted.listed)


@cache
def total_subquery(resource: str, *, by_status: bool) -> sa.ScalarSelect:
    """The exact count as a scalar subquery (to read within another statement, such as a page's),
    with bound parameters :organization_id and, when `by_status`, :count_status (else every listed
    status is counted). Built once per shape; only where counts_exactly()."""
    counted = COUNTED[resource]
    table = ResourceCount.__table__
    if by_status:
        statuses = table.c.status == sa.bindparam("count_status")
    else:  # constants of the code, written into the SQL (an expanding parameter is rebuilt at every execution)
        statuses = table.c.status.in_([sa.literal_column(f"'{status}'") for status in counted.listed])
    return (
        sa.select(sa.cast(sa.func.coalesce(sa.func.sum(table.c.n), 0), sa.BigInteger))
        .where(table.c.organization_id == sa.bindparam("organization_id"), table.c.resource == resource, statuses)
        .scalar_subquery()
    )


def total(organization_id: str, resource: str, status: str | None = None) -> int | None:
    """How many of the organization's `resource` rows have `status` (every listed status when
    None), as committed: one primary-key lookup in autocommit (no transaction round trips). None
    when no exact count applies."""
    if not counts_exactly(resource, status):
        return None
    statement = sa.select(total_subquery(resource, by_status=status is not None))
    params = {"organization_id": organization_id, "count_status": status}
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return int(connection.execute(statement, params).scalar_one())


def pending_deltas(session: Session | None = None) -> Counter:
    """This transaction's adjustments not yet written: {(organization_id, resource, status): delta}."""
    session = session if session is not None else db.session()
    return session.info.setdefault(DELTAS_KEY, Counter())


def adjust(organization_id: str, resource: str, status: str, delta: int, session: Session | None = None) -> None:
    """Count `delta` more rows (fewer when negative); written when the transaction commits. For
    changes the ORM doesn't see: bulk INSERT/UPDATE/DELETE statements."""
    if delta:
        pending_deltas(session)[(organization_id, resource, status)] += delta


def moved(organization_id: str, resource: str, old: str, new: str, rows: int) -> None:
    """`rows` rows went from status `old` to `new` (a conditional bulk UPDATE's rowcount)."""
    adjust(organization_id, resource, old, -rows)
    adjust(organization_id, resource, new, rows)


def moved_returning(resource: str, old: str, new: str, organization_ids) -> int:
    """Like `moved`, for a bulk UPDATE over several organizations that returned each changed row's
    organization_id. Returns how many rows moved."""
    per_org = Counter(organization_ids)
    for organization_id, rows in per_org.items():
        moved(organization_id, resource, old, new, rows)
    return sum(per_org.values())


def write_deltas(session: Session) -> None:
    """Apply the transaction's deltas in one upsert, in key order: the counter rows are locked only
    from here to the commit, and every committer locks them in the same order (no deadlocks)."""
    deltas = session.info.pop(DELTAS_KEY, None)
    rows = [
        {"organization_id": org, "resource": resource, "status": status, "n": delta}
        for (org, resource, status), delta in sorted(deltas.items())
        if delta
    ] if deltas else []  # fmt: skip
    if not rows:
        return
    table = ResourceCount.__table__
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(table).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=[table.c.organization_id, table.c.resource, table.c.status],
        set_={"n": table.c.n + statement.excluded.n},
    )
    session.execute(statement)


def counted_rows(counted: Counted, organization_id: str | None = None):
    """(organization_id, status, COUNT(*)) of the rows, grouped: what the counters must equal."""
    status = counted.status_sql()
    statement = sa.select(counted.model.organization_id, status, sa.func.count()).group_by(
        counted.model.organization_id, status
    )
    if organization_id is not None:
        statement = statement.where(counted.model.organization_id == organization_id)
    return statement


def recount(organization_id: str | None = None) -> int:
    """Rebuild the counters of one organization (every organization when None) from the rows, in
    one transaction; returns how many counter rows were written. On PostgreSQL the counter table is
    locked meanwhile (writers' commits wait a moment), so no concurrent change is lost or doubled."""
    table = ResourceCount.__table__
    session = db.session()
    session.commit()
    if session.get_bind().dialect.name == "postgresql":
        session.execute(sa.text("LOCK TABLE resource_counts IN SHARE ROW EXCLUSIVE MODE"))
    clear = sa.delete(table)
    if organization_id is not None:
        clear = clear.where(table.c.organization_id == organization_id)
    session.execute(clear)  # first on SQLite: takes the write lock before the counts are read
    rows = [
        {"organization_id": org, "resource": counted.resource, "status": status, "n": n}
        for counted in COUNTED.values()
        for org, status, n in session.execute(counted_rows(counted, organization_id)).all()
    ]
    if rows:
        session.execute(sa.insert(table), rows)
    session.info.pop(DELTAS_KEY, None)  # nothing else changed in this transaction
    session.commit()
    return len(rows)


def drift(organization_id: str | None = None) -> dict[tuple[str, str, str], tuple[int, int]]:
    """{(organization_id, resource, status): (counter, rows)} wherever the two differ."""
    table = ResourceCount.__table__
    statement = sa.select(table.c.organization_id, table.c.resource, table.c.status, table.c.n)
    if organization_id is not None:
        statement = statement.where(table.c.organization_id == organization_id)
    stored = {(org, resource, status): n for org, resource, status, n in db.session.execute(statement).all()}
    actual = {
        (org, counted.resource, status): n
        for counted in COUNTED.values()
        for org, status, n in db.session.execute(counted_rows(counted, organization_id)).all()
    }
    return {
        key: (stored.get(key, 0), actual.get(key, 0))
        for key in stored.keys() | actual.keys()
        if stored.get(key, 0) != actual.get(key, 0)
    }
