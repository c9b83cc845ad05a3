"""The API's reads as Core statements of the output columns only (api.reads runs and encodes them).

Each output model names its columns: a field that is a column of the table is selected as is,
computed fields are SQL expressions, nested lists are read by a second statement.
"""

import sqlalchemy as sa
from pydantic import BaseModel

from ..database import read_rows
from ..errors import NotFound
from ..ids import canonical_id
from ..models import Agent, Call, Task, TranscriptTurn, WebhookAttempt, WebhookDelivery
from ..schemas.agents import AgentOut, AgentSummary
from ..schemas.calls import CallDetailOut, CallOut, TranscriptTurnOut, WebhookAttemptOut, WebhookDeliveryOut
from ..schemas.tasks import AttemptOut, TaskOut
from ..services import resource_counts
from ..services.agents import AGENT_STATUS
from . import reads

CALL_COMPUTED = {"has_recording": Call.recording_path.is_not(None)}
ATTEMPT_COMPUTED = {"id": Call.id}


def output_columns(table_model, out_model: type[BaseModel], computed: dict | None = None) -> tuple:
    """The columns of `table_model` that `out_model` shows, in its field order."""
    computed = computed or {}
    columns = []
    for name in out_model.model_fields:
        if name in computed:
            columns.append(computed[name].label(name))
        elif name in table_model.__table__.c:
            columns.append(getattr(table_model, name))
    return tuple(columns)


AGENT_COLUMNS = output_columns(Agent, AgentOut)
TASK_COLUMNS = output_columns(Task, TaskOut)
CALL_COLUMNS = output_columns(Call, CallOut, CALL_COMPUTED)
CALL_DETAIL_COLUMNS = output_columns(Call, CallDetailOut, CALL_COMPUTED)
TURN_COLUMNS = output_columns(TranscriptTurn, TranscriptTurnOut)
AGENT_SUMMARY_COLUMNS = output_columns(Agent, AgentSummary)
TASK_ATTEMPT_COLUMNS = output_columns(Call, AttemptOut)
DELIVERY_COLUMNS = output_columns(WebhookDelivery, WebhookDeliveryOut)
DELIVERY_ATTEMPT_COLUMNS = (WebhookAttempt.delivery_id, *output_columns(WebhookAttempt, WebhookAttemptOut))


def _live_agents(org_id: str) -> list:
    return [Agent.organization_id == org_id, Agent.deleted_at.is_(None)]


def list_agents(org_id: str, *, enabled: bool | None, limit: int, offset: int) -> reads.Page:
    where = _live_agents(org_id)
    if enabled is not None:
        where.append(Agent.enabled == enabled)
    exact = resource_counts.total_query(org_id, "agents", None if enabled is None else AGENT_STATUS[enabled])
    return reads.page(AGENT_COLUMNS, where, order_by=(Agent.created_at.desc(), Agent.id), limit=limit, offset=offset,
                      exact_count=exact)  # fmt: skip


def get_agent(org_id: str, agent_id: str):
    agent_id = canonical_id(agent_id, "Agent")
    return _found(reads.one(sa.select(*AGENT_COLUMNS).where(*_live_agents(org_id), Agent.id == agent_id)), "Agent")


def _given(*filters: tuple) -> list:
    """`column == value` for each (column, value) filter whose value was given."""
    return [column == value for column, value in filters if value is not None]


def list_tasks(org_id: str, *, agent_id=None, campaign_id=None, status=None, limit: int, offset: int) -> reads.Page:
    where = [Task.organization_id == org_id,
             *_given((Task.agent_id, agent_id), (Task.campaign_id, campaign_id), (Task.status, status))]  # fmt: skip
    exact = resource_counts.total_query(org_id, "tasks", status) if agent_id is None and campaign_id is None else None
    return reads.page(TASK_COLUMNS, where, order_by=(Task.created_at.desc(), Task.id), limit=limit, offset=offset,
                      exact_count=exact)  # fmt: skip


def get_task(org_id: str, task_id: str) -> dict:
    """The task with its agent (summary) and every call placed for it, oldest first."""
    task_id = canonical_id(task_id, "Task")
    agent_columns = (column.label(f"agent__{column.key}") for column in AGENT_SUMMARY_COLUMNS)
    statement = (
        sa.select(*TASK_COLUMNS, *agent_columns)
        .join_from(Task, Agent, Agent.id == Task.agent_id)
        .where(Task.organization_id == org_id, Task.id == task_id)
    )
    row = _found(reads.one(statement), "Task")
    attempts = read_rows(
        sa.select(*TASK_ATTEMPT_COLUMNS).where(Call.task_id == task_id).order_by(Call.created_at, Call.id)
    )
    fields = dict(row)
    agent_fields = {key.removeprefix("agent__"): fields.pop(key) for key in list(fields) if key.startswith("agent__")}
    return {**fields, "agent": agent_fields, "attempts": attempts}


def list_calls(org_id: str, *, task_id=None, agent_id=None, status=None, limit: int, offset: int) -> reads.Page:
    where = [Call.organization_id == org_id,
             *_given((Call.task_id, task_id), (Call.agent_id, agent_id), (Call.status, status))]  # fmt: skip
    exact = resource_counts.total_query(org_id, "calls", status) if task_id is None and agent_id is None else None
    return reads.page(CALL_COLUMNS, where, order_by=(Call.created_at.desc(), Call.id), limit=limit, offset=offset,
                      exact_count=exact)  # fmt: skip


def _call(org_id: str, call_id: str, columns):
    call_id = canonical_id(call_id, "Call")
    return _found(reads.one(sa.select(*columns).where(Call.organization_id == org_id, Call.id == call_id)), "Call")


def _transcript(call_id: str) -> list:
    return read_rows(
        sa.select(*TURN_COLUMNS).where(TranscriptTurn.call_id == call_id).order_by(TranscriptTurn.position)
    )


def get_call(org_id: str, call_id: str) -> dict:
    row = _call(org_id, call_id, CALL_DETAIL_COLUMNS)
    return {**row, "transcript": _transcript(row["id"])}


def get_transcript(org_id: str, call_id: str) -> dict:
    row = _call(org_id, call_id, (Call.id, Call.status))
    return {"call_id": row["id"], "status": row["status"], "transcript": _transcript(row["id"])}


def stored_report(org_id: str, call_id: str) -> dict | None:
    """The call's stored report (None when it has none yet: the caller generates one)."""
    return _call(org_id, call_id, (Call.id, Call.report))["report"]


def webhook_deliveries(org_id: str, call_id: str) -> list[dict]:
    call = _call(org_id, call_id, (Call.id,))
    deliveries = read_rows(
        sa.select(*DELIVERY_COLUMNS)
        .where(WebhookDelivery.organization_id == org_id, WebhookDelivery.call_id == call["id"])
        .order_by(WebhookDelivery.created_at)
    )
    if not deliveries:
        return []
    attempts: dict[str, list] = {}
    for attempt in read_rows(
        sa.select(*DELIVERY_ATTEMPT_COLUMNS)
        .where(WebhookAttempt.delivery_id.in_([delivery["id"] for delivery in deliveries]))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
    ):
        attempts.setdefault(attempt["delivery_id"], []).append(attempt)
    return [{**delivery, "attempts": attempts.get(delivery["id"], [])} for delivery in deliveries]


def _found(row, resource: str):
    if row is None:
        raise NotFound(resource)
    return row
