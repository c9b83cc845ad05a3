"""Task rules and writes (creating calls from tasks lives in services.calls)."""

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import Task
from ..models.task import WEBHOOK_EVENTS
from ..schemas.tasks import NOT_NULLABLE_TASK_FIELDS, TaskCreate, TaskUpdate
from ..telephony.dynamic_variables import missing_for_call, missing_message
from . import dnc, resource_counts
from .agents import get_agent
from .destinations import check_destination
from .scoping import apply_fields, get_owned, owned, page

DELETABLE_STATUSES = ("pending", "failed")


def list_tasks(org_id: str, *, agent_id=None, campaign_id=None, status=None, limit: int, offset: int):
    statement = owned(Task, org_id)
    if agent_id is not None:
        statement = statement.where(Task.agent_id == agent_id)
    if campaign_id is not None:
        statement = statement.where(Task.campaign_id == campaign_id)
    if status is not None:
        statement = statement.where(Task.status == status)
    known = resource_counts.total(org_id, "tasks", status) if agent_id is None and campaign_id is None else None
    return page(statement, order_by=(Task.created_at.desc(), Task.id), limit=limit, offset=offset, known_total=known)


def get_task(org_id: str, task_id: str) -> Task:
    return get_owned(Task, task_id, org_id, "Task")


def _default_webhook_events(task: Task) -> None:
    """A webhook_url with no events chosen gets every event (not silence)."""
    if task.webhook_url and not task.webhook_events:
        task.webhook_events = list(WEBHOOK_EVENTS)


def require_variables(agent, context_data: dict | None, starting_message: str | None) -> None:
    """400 naming each `{{variable}}` the agent's prompt or the first message uses that has no
    value in `context_data` and no default on the agent (the provider would end the call)."""
    missing = missing_for_call(agent, context_data, starting_message)
    if missing:
        raise Invalid(
            missing_message(missing),
            {
                f"context_data.{name}": f"{{{{{name}}}}} is used by the agent but has no value here and no default"
                for name in missing
            },
        )


def create_task(org_id: str, data: TaskCreate) -> Task:
    fields = data.model_dump(mode="python")
    try:
        agent = get_agent(org_id, fields["agent_id"])
    except NotFound:
        raise Invalid("Validation failed", {"agent_id": "no such agent in your organization"}) from None
    check_destination(org_id, fields["to_number"])
    require_variables(agent, fields.get("context_data"), fields.get("starting_message"))
    _refuse_listed(org_id, fields["to_number"])
    task = Task(organization_id=org_id, status="pending", **fields)
    _default_webhook_events(task)
    db.session.add(task)
    db.session.commit()
    return task


def _refuse_listed(org_id: str, number: str) -> None:
    if dnc.is_listed(org_id, number):
        raise Invalid("Validation failed", {"to_number": "is on the do-not-call list"})


def update_task(org_id: str, task_id: str, data: TaskUpdate) -> Task:
    task = get_task(org_id, task_id)
    if task.status != "pending":
        raise Conflict(
            f"Only pending tasks can be updated; this task is {task.status}",
            {"status": task.status},
        )
    fields = data.model_dump(mode="python", exclude_unset=True)
    nulls = [name for name in NOT_NULLABLE_TASK_FIELDS if name in fields and fields[name] is None]
    if nulls:
        raise Invalid("Validation failed", {name: "must not be null" for name in nulls})
    if {"context_data", "starting_message"} & fields.keys():
        require_variables(
            task.agent,
            fields.get("context_data", task.context_data),
            fields.get("starting_message", task.starting_message),
        )
    if fields.get("to_number"):
        check_destination(org_id, fields["to_number"])
        _refuse_listed(org_id, fields["to_number"])
    apply_fields(task, fields)
    _default_webhook_events(task)
    db.session.commit()
    return task


def delete_task(org_id: str, task_id: str) -> None:
    task = get_task(org_id, task_id)
    if task.status not in DELETABLE_STATUSES:
        raise Conflict(
            f"Only pending or failed tasks can be deleted; this task is {task.status}",
            {"status": task.status},
        )
    db.session.delete(task)
    db.session.commit()
