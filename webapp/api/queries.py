"""The API's reads as Core statements of the output columns only (api.reads runs and encodes them).

Each output model names its columns: a field that is a column of the table is selected as is,
computed fields are SQL expressions, nested lists are read by a second statement. Every statement
is built once, here, with bound parameters (:organization_id and the request's values).
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


ORG = sa.bindparam("organization_id")


AGENTS = reads.Listing(
    AGENT_COLUMNS,
    scope=(Agent.organization_id == ORG, Agent.deleted_at.is_(None)),
    filters={"enabled": Agent.enabled},
    order_by=(Agent.created_at.desc(), Agent.id),
    counted="agents",
)
AGENT = sa.select(*AGENT_COLUMNS).where(*AGENTS.scope, Agent.id == sa.bindparam("agent_id")).limit(1)


def list_agents(org_id: str, *, enabled: bool | None, limit: int, offset: int) -> reads.Page:
    status = None if enabled is None else AGENT_STATUS[enabled]
    return AGENTS.page(org_id, {"enabled": enabled}, exact=True, count_status=status, limit=limit, offset=offset)


def get_agent(org_id: str, agent_id: str):
    agent_id = canonical_id(agent_id, "Agent")
    return _found(reads.one(AGENT, {"organization_id": org_id, "agent_id": agent_id}), "Agent")


TASKS = reads.Listing(
    TASK_COLUMNS,
    scope=(Task.organization_id == ORG,),
    filters={"agent_id": Task.agent_id, "campaign_id": Task.campaign_id, "status": Task.status},
    order_by=(Task.created_at.desc(), Task.id),
    counted="tasks",
)
TASK_WITH_AGENT = (
    sa.select(*TASK_COLUMNS, *(column.label(f"agent__{column.key}") for column in AGENT_SUMMARY_COLUMNS))
    .join_from(Task, Agent, Agent.id == Task.agent_id)
    .where(Task.organization_id == ORG, Task.id == sa.bindparam("task_id"))
    .limit(1)
)
TASK_ATTEMPTS = (
    sa.select(*TASK_ATTEMPT_COLUMNS).where(Call.task_id == sa.bindparam("task_id")).order_by(Call.created_at, Call.id)
)


def list_tasks(org_id: str, *, agent_id=None, campaign_id=None, status=None, limit: int, offset: int) -> reads.Page:
    filters = {"agent_id": agent_id, "campaign_id": campaign_id, "status": status}
    exact = agent_id is None and campaign_id is None
    return TASKS.page(org_id, filters, exact=exact, count_status=status, limit=limit, offset=offset)


def get_task(org_id: str, task_id: str) -> dict:
    """The task with its agent (summary) and every call placed for it, oldest first."""
    params = {"organization_id": org_id, "task_id": canonical_id(task_id, "Task")}
    fields = dict(_found(reads.one(TASK_WITH_AGENT, params), "Task"))
    attempts = read_rows(TASK_ATTEMPTS, params)
    agent_fields = {key.removeprefix("agent__"): fields.pop(key) for key in list(fields) if key.startswith("agent__")}
    return {**fields, "agent": agent_fields, "attempts": attempts}


CALLS = reads.Listing(
    CALL_COLUMNS,
    scope=(Call.organization_id == ORG,),
    filters={"task_id": Call.task_id, "agent_id": Call.agent_id, "status": Call.status},
    order_by=(Call.created_at.desc(), Call.id),
    counted="calls",
)


def _call_statement(*columns) -> sa.Select:
    return sa.select(*columns).where(Call.organization_id == ORG, Call.id == sa.bindparam("call_id")).limit(1)


CALL_DETAIL = _call_statement(*CALL_DETAIL_COLUMNS)
CALL_STATUS = _call_statement(Call.id, Call.status)
CALL_REPORT = _call_statement(Call.id, Call.report)
CALL_ID = _call_statement(Call.id)
TRANSCRIPT = (
    sa.select(*TURN_COLUMNS).where(TranscriptTurn.call_id == sa.bindparam("call_id")).order_by(TranscriptTurn.position)
)
DELIVERIES = (
    sa.select(*DELIVERY_COLUMNS)
    .where(WebhookDelivery.organization_id == ORG, WebhookDelivery.call_id == sa.bindparam("call_id"))
    .order_by(WebhookDelivery.created_at)
)
DELIVERY_ATTEMPTS = (
    sa.select(*DELIVERY_ATTEMPT_COLUMNS)
    .where(WebhookAttempt.delivery_id.in_(sa.bindparam("delivery_ids", expanding=True)))
    .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
)


def list_calls(org_id: str, *, task_id=None, agent_id=None, status=None, limit: int, offset: int) -> reads.Page:
    filters = {"task_id": task_id, "agent_id": agent_id, "status": status}
    exact = task_id is None and agent_id is None
    return CALLS.page(org_id, filters, exact=exact, count_status=status, limit=limit, offset=offset)


def _call(org_id: str, call_id: str, statement: sa.Select):
    params = {"organization_id": org_id, "call_id": canonical_id(call_id, "Call")}
    return _found(reads.one(statement, params), "Call")


def _transcript(call_id: str) -> list:
    return read_rows(TRANSCRIPT, {"call_id": call_id})


def get_call(org_id: str, call_id: str) -> dict:
    row = _call(org_id, call_id, CALL_DETAIL)
    return {**row, "transcript": _transcript(row["id"])}


def get_transcript(org_id: str, call_id: str) -> dict:
    row = _call(org_id, call_id, CALL_STATUS)
    return {"call_id": row["id"], "status": row["status"], "transcript": _transcript(row["id"])}


def stored_report(org_id: str, call_id: str) -> dict | None:
    """The call's stored report (None when it has none yet: the caller generates one)."""
    return _call(org_id, call_id, CALL_REPORT)["report"]


def webhook_deliveries(org_id: str, call_id: str) -> list[dict]:
    call = _call(org_id, call_id, CALL_ID)
    deliveries = read_rows(DELIVERIES, {"organization_id": org_id, "call_id": call["id"]})
    if not deliveries:
        return []
    attempts: dict[str, list] = {}
    for attempt in read_rows(DELIVERY_ATTEMPTS, {"delivery_ids": [delivery["id"] for delivery in deliveries]}):
        attempts.setdefault(attempt["delivery_id"], []).append(attempt)
    return [{**delivery, "attempts": attempts.get(delivery["id"], [])} for delivery in deliveries]


def _found(row, resource: str):
    if row is None:
        raise NotFound(resource)
    return row
