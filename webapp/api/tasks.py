from flask import Blueprint

from ..schemas.calls import ExecuteOut
from ..schemas.tasks import TaskCreate, TaskDetailOut, TaskListQuery, TaskOut, TaskUpdate
from ..services import calls as call_service
from ..services import tasks as service
from . import queries, reads
from .endpoint import endpoint
from .envelope import ok
from .serialize import dump

bp = Blueprint("tasks", __name__, url_prefix="/tasks")


@bp.get("")
@endpoint("List tasks", query=TaskListQuery, response=TaskOut, many=True)
def list_tasks(principal, query: TaskListQuery):
    page = queries.list_tasks(
        principal.organization_id,
        agent_id=query.agent_id,
        campaign_id=query.campaign_id,
        status=query.status,
        limit=query.limit,
        offset=query.offset,
    )
    return reads.respond_page(TaskOut, page)


@bp.post("")
@endpoint("Create a task", body=TaskCreate, response=TaskDetailOut, status=201)
def create_task(principal, body: TaskCreate):
    return ok(dump(TaskDetailOut, service.create_task(principal.organization_id, body)), 201)


@bp.get("/<task_id>")
@endpoint("Get a task with its agent", response=TaskDetailOut, errors=(404,))
def get_task(principal, task_id: str):
    return reads.respond_model(TaskDetailOut, queries.get_task(principal.organization_id, task_id))


@bp.patch("/<task_id>")
@endpoint("Update a pending task", body=TaskUpdate, response=TaskDetailOut, errors=(404, 409))
def update_task(principal, body: TaskUpdate, task_id: str):
    return ok(dump(TaskDetailOut, service.update_task(principal.organization_id, task_id, body)))


@bp.delete("/<task_id>")
@endpoint("Delete a pending or failed task", errors=(404, 409))
def delete_task(principal, task_id: str):
    service.delete_task(principal.organization_id, task_id)
    return ok({"id": task_id, "deleted": True})


@bp.post("/<task_id>/execute")
@endpoint("Execute a pending task (place the call)", response=ExecuteOut, errors=(404, 409, 503))
def execute_task(principal, task_id: str):
    call = call_service.execute_task(principal.organization_id, task_id)
    if call is None:
        message = "Queued: the organization is at its concurrent-call limit; the call starts when a slot frees"
        return ok({"call_id": None, "queued": True, "message": message})
    return ok({"call_id": call.id, "message": "Call initiated"})


@bp.post("/<task_id>/reset")
@endpoint("Reset a task to pending", response=TaskDetailOut, errors=(404, 409))
def reset_task(principal, task_id: str):
    return ok(dump(TaskDetailOut, call_service.reset_task(principal.organization_id, task_id)))
