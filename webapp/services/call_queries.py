"""Reading calls (the writes are the call engine's, in services.calls)."""

from sqlalchemy.orm import defer, lazyload

from ..models import Call
from . import resource_counts
from .scoping import get_owned, owned, page

# Lists show none of these JSON documents; loading them would parse kilobytes per row.
LIST_DEFERRED = tuple(defer(column) for column in (Call.provider_data, Call.events, Call.analysis, Call.report))


def list_calls(org_id: str, *, task_id=None, agent_id=None, status=None, limit: int, offset: int):
    statement = owned(Call, org_id).options(lazyload(Call.turns), *LIST_DEFERRED)  # lists never show transcripts
    if task_id is not None:
        statement = statement.where(Call.task_id == task_id)
    if agent_id is not None:
        statement = statement.where(Call.agent_id == agent_id)
    if status is not None:
        statement = statement.where(Call.status == status)
    known = resource_counts.total(org_id, "calls", status) if task_id is None and agent_id is None else None
    return page(statement, order_by=(Call.created_at.desc(), Call.id), limit=limit, offset=offset, known_total=known)


def get_call(org_id: str, call_id: str) -> Call:
    return get_owned(Call, call_id, org_id, "Call")
