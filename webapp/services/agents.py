"""Agent rules and writes."""

import sqlalchemy as sa

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import Agent, Task, utcnow
from ..schemas.agents import NOT_NULLABLE_AGENT_FIELDS, AgentCreate, AgentUpdate, DtmfRules, VoiceSettings
from . import agent_sync, resource_counts
from .scoping import apply_fields, get_owned, owned, page

OPEN_TASK_STATUSES = ("pending", "in_progress")
AGENT_STATUS = {True: "enabled", False: "disabled"}  # as resource_counts counts agents


def _live_agents(org_id: str):
    return owned(Agent, org_id).where(Agent.deleted_at.is_(None))


def list_agents(org_id: str, *, enabled: bool | None, limit: int, offset: int):
    statement = _live_agents(org_id)
    if enabled is not None:
        statement = statement.where(Agent.enabled == enabled)
    known = resource_counts.total(org_id, "agents", None if enabled is None else AGENT_STATUS[enabled])
    return page(statement, order_by=(Agent.created_at.desc(), Agent.id), limit=limit, offset=offset, known_total=known)


def get_agent(org_id: str, agent_id: str) -> Agent:
    agent = get_owned(Agent, agent_id, org_id, "Agent")
    if agent.deleted_at is not None:
        raise NotFound("Agent")
    return agent


def create_agent(org_id: str, data: AgentCreate) -> Agent:
    agent = Agent(organization_id=org_id, **data.model_dump(mode="json"))
    db.session.add(agent)
    agent_sync.mark_for_sync(agent)
    db.session.commit()
    return agent


def update_agent(org_id: str, agent_id: str, data: AgentUpdate) -> Agent:
    agent = get_agent(org_id, agent_id)
    fields = data.model_dump(mode="json", exclude_unset=True)
    nulls = [name for name in NOT_NULLABLE_AGENT_FIELDS if name in fields and fields[name] is None]
    if nulls:
        raise Invalid("Validation failed", {name: "must not be null" for name in nulls})
    for name, model in (("voice_settings", VoiceSettings), ("dtmf_rules", DtmfRules)):
        if name in fields and fields[name] is None:
            fields[name] = model().model_dump(mode="json")  # null resets to the shape create gives
    if "dynamic_variables" in fields and fields["dynamic_variables"] is None:
        fields["dynamic_variables"] = {}
    apply_fields(agent, fields)
    if agent.voicemail_action == "leave_message" and not agent.voicemail_message:
        db.session.rollback()
        message = "voicemail_action leave_message needs voicemail_message"
        raise Invalid("Validation failed", {"voicemail_message": message})
    agent_sync.mark_for_sync(agent)
    db.session.commit()
    return agent


def delete_agent(org_id: str, agent_id: str) -> None:
    agent = get_agent(org_id, agent_id)
    open_tasks = db.session.execute(
        sa.select(sa.func.count())
        .select_from(Task)
        .where(Task.agent_id == agent.id, Task.status.in_(OPEN_TASK_STATUSES))
    ).scalar_one()
    if open_tasks:
        raise Conflict(
            f"Agent has {open_tasks} pending or in-progress task(s); finish or delete them first",
            {"open_tasks": open_tasks},
        )
    agent.deleted_at = utcnow()
    agent.enabled = False
    db.session.commit()
