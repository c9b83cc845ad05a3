"""The session hook that keeps resource_counts exact for every change made through the ORM.

Before each flush, the counted rows the flush inserts, deletes or moves between statuses become
deltas (services.resource_counts.pending_deltas); at commit they are written in one sorted upsert,
inside the same transaction. A changed or deleted row's old status is read from the database with
its row lock (SELECT ... FOR UPDATE on PostgreSQL; under the database's write lock on SQLite), not
taken from the object, which may have been loaded before another transaction changed it. Rows
removed by the database's ON DELETE CASCADE (a task's calls, a campaign's tasks) are counted out
with their parent. Savepoints are not tracked (the application uses none): deltas recorded inside
a savepoint that is rolled back would stay.
"""

from collections import defaultdict

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Call, Campaign, Task
from .resource_counts import COUNTED_BY_MODEL, Counted, adjust, pending_deltas, write_deltas

TABLE_ORDER = {table.name: index for index, table in enumerate(db.metadata.sorted_tables)}


def _column_default(counted: Counted, name: str):
    default = counted.model.__table__.c[name].default
    return default.arg if default is not None and default.is_scalar else None


def _new_values(counted: Counted, obj) -> dict:
    values = {}
    for name in counted.columns:
        value = getattr(obj, name)
        values[name] = _column_default(counted, name) if value is None and name != "deleted_at" else value
    return values


def _status_changed(counted: Counted, obj) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in counted.columns)


def _stored_rows(session: Session, counted: Counted, ids: list[str], *, deleting: bool) -> dict[str, sa.Row]:
    """The rows as stored now, locked until the transaction ends with the lock the flush's UPDATE
    (FOR NO KEY UPDATE: inserts referencing the row still go ahead) or DELETE (FOR UPDATE) takes."""
    model = counted.model
    columns = [getattr(model, name) for name in counted.columns]
    rows = session.execute(
        sa.select(model.id, model.organization_id, *columns)
        .where(model.id.in_(ids))
        .order_by(model.id)
        .with_for_update(key_share=not deleting)  # key_share: FOR NO KEY UPDATE on PostgreSQL
        .execution_options(autoflush=False)
    ).all()
    return {row.id: row for row in rows}


def _count_out_cascaded(session: Session, model, where, skip_ids: set[str]) -> None:
    """Rows of `model` the database deletes with their parent (ON DELETE CASCADE)."""
    counted = COUNTED_BY_MODEL[model]
    columns = [getattr(model, name) for name in counted.columns]
    rows = session.execute(
        sa.select(model.id, model.organization_id, *columns).where(where).with_for_update()
        .execution_options(autoflush=False)
    ).all()  # fmt: skip
    for row in rows:
        if row.id not in skip_ids:
            adjust(row.organization_id, counted.resource, counted.status_of(row._mapping), -1, session)


def _flush_order(item: tuple[Counted, list]) -> int:
    """Rows are locked table by table in the order the flush updates them (parents first), as
    before this hook existed: no new lock-order cycle between transactions."""
    return TABLE_ORDER[item[0].model.__table__.name]


def _take_write_lock_on_sqlite(session: Session) -> None:
    """pysqlite runs SELECTs outside any transaction until the first write, so old values read there
    could change before the flush writes. A write that changes nothing takes SQLite's write lock
    first (no other writer until the commit); PostgreSQL needs nothing (the reads lock the rows)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(sa.text("UPDATE resource_counts SET n = n WHERE 0"))


def _before_flush(session: Session, flush_context, instances) -> None:
    changed: dict[Counted, list] = defaultdict(list)
    deleted: dict[Counted, list] = defaultdict(list)
    for obj in session.new:
        counted = COUNTED_BY_MODEL.get(type(obj))
        if counted is not None:
            adjust(obj.organization_id, counted.resource, counted.status_of(_new_values(counted, obj)), 1, session)
    for obj in session.dirty:
        counted = COUNTED_BY_MODEL.get(type(obj))
        if counted is not None and _status_changed(counted, obj):
            changed[counted].append(obj)
    for obj in session.deleted:
        counted = COUNTED_BY_MODEL.get(type(obj))
        if counted is not None:
            deleted[counted].append(obj)
    if changed or deleted:
        _take_write_lock_on_sqlite(session)
    for counted, objs in sorted(changed.items(), key=_flush_order):
        stored = _stored_rows(session, counted, [obj.id for obj in objs], deleting=False)
        for obj in objs:
            row = stored.get(obj.id)
            if row is None:
                continue  # deleted meanwhile: the flush fails on it
            new_values = {name: getattr(obj, name) for name in counted.columns}
            old, new = counted.status_of(row._mapping), counted.status_of(new_values)
            if old != new:
                adjust(row.organization_id, counted.resource, old, -1, session)
                adjust(row.organization_id, counted.resource, new, 1, session)
    for counted, objs in sorted(deleted.items(), key=_flush_order):
        stored = _stored_rows(session, counted, [obj.id for obj in objs], deleting=True)
        for row in stored.values():
            adjust(row.organization_id, counted.resource, counted.status_of(row._mapping), -1, session)
    _count_out_cascades(session, deleted)


def _count_out_cascades(session: Session, deleted: dict[Counted, list]) -> None:
    deleted_ids = {counted.model: {obj.id for obj in objs} for counted, objs in deleted.items()}
    campaign_ids = deleted_ids.get(Campaign, set())
    task_ids = deleted_ids.get(Task, set())
    if campaign_ids:
        _count_out_cascaded(session, Task, Task.campaign_id.in_(campaign_ids), skip_ids=task_ids)
        campaign_tasks = sa.select(Task.id).where(Task.campaign_id.in_(campaign_ids))
        _count_out_cascaded(session, Call, Call.task_id.in_(campaign_tasks.where(Task.id.not_in(task_ids))),
                            skip_ids=deleted_ids.get(Call, set()))  # fmt: skip
    if task_ids:
        _count_out_cascaded(session, Call, Call.task_id.in_(task_ids), skip_ids=deleted_ids.get(Call, set()))


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    write_deltas(session)


def _after_transaction_end(session: Session, transaction) -> None:
    """The outermost transaction ended without a commit: its deltas go with it."""
    if transaction.parent is None:
        pending_deltas(session).clear()


def install() -> None:
    if not sa.event.contains(Session, "before_flush", _before_flush):
        sa.event.listen(Session, "before_flush", _before_flush)
        sa.event.listen(Session, "before_commit", _before_commit)
        sa.event.listen(Session, "after_transaction_end", _after_transaction_end)
