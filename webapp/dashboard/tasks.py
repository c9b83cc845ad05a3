"""Tasks: list with filters and pages, create, edit while pending, delete, execute, reset."""

from flask import flash, redirect, render_template, request, url_for

from ..errors import AppError, Conflict
from ..models import TASK_STATUSES
from ..schemas.tasks import TaskCreate, TaskUpdate
from ..services import agents as agent_service
from ..services import calls as call_service
from ..services import stats
from ..services import tasks as service
from . import task_form
from .access import org_id
from .blueprint import bp
from .forms import service_errors, validate
from .views import done, id_or_blank, is_htmx, notice_oob, page_number, page_or_partial

PAGE_SIZE = 25
WEBHOOK_EVENTS = ("call_started", "call_completed", "call_failed")


def org_agents() -> list:
    rows, _ = agent_service.list_agents(org_id(), enabled=None, limit=100, offset=0)
    return rows


def _filters() -> dict:
    status = request.values.get("status", "")
    agent_id = request.values.get("agent_id", "")
    return {"status": status if status in TASK_STATUSES else "", "agent_id": id_or_blank(agent_id)}


def _list_context() -> dict:
    filters, page = _filters(), page_number()
    rows, total = service.list_tasks(
        org_id(), agent_id=filters["agent_id"] or None, status=filters["status"] or None,
        limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE,
    )  # fmt: skip
    return {"tasks": rows, "total": total, "page": page, "page_size": PAGE_SIZE, "filters": filters,
            "agents": org_agents(), "statuses": TASK_STATUSES, "running": stats.anything_running(org_id())}  # fmt: skip


@bp.get("/tasks")
def tasks_index():
    return page_or_partial("dashboard/tasks/index.html", "dashboard/tasks/_list.html", **_list_context())


def _render_form(task, values: dict, errors: dict[str, str], status: int = 200):
    agents = org_agents()
    context = {"task": task, "values": values, "errors": errors, "agents": agents, "webhook_events": WEBHOOK_EVENTS,
               "agent_options": [(agent.id, agent.name) for agent in agents]}  # fmt: skip
    return render_template("dashboard/tasks/form.html", **context), status


@bp.route("/tasks/new", methods=["GET", "POST"])
def task_new():
    if request.method == "GET":
        return _render_form(None, task_form.blank_values(request.args.get("agent_id", "")), {})
    values = task_form.values_from_form()
    payload, errors = task_form.payload_from_values(values)
    data, schema_errors = validate(TaskCreate, payload)
    errors.update(schema_errors)
    if not errors:
        try:
            task = service.create_task(org_id(), data)
        except AppError as exc:
            errors = service_errors(exc)
        else:
            return done(f"Task “{task.name}” created.", url_for("dashboard.tasks_index"))
    return _render_form(None, values, errors, 400)


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
def task_edit(task_id: str):
    """Pending tasks can be changed; others are shown read-only with a way to reset them."""
    task = service.get_task(org_id(), task_id)
    if request.method == "GET":
        return _render_form(task, task_form.values_from_task(task), {})
    values = {**task_form.values_from_form(), "agent_id": task.agent_id}
    payload, errors = task_form.payload_from_values(values, task.context_data)
    payload.pop("agent_id")
    data, schema_errors = validate(TaskUpdate, payload)
    errors.update(schema_errors)
    if not errors:
        try:
            task = service.update_task(org_id(), task.id, data)
        except AppError as exc:
            errors = service_errors(exc)
        else:
            return done(f"Task “{task.name}” saved.", url_for("dashboard.tasks_index"))
    return _render_form(task, values, errors, 400)


def _row_refusal(task, exc: Conflict):
    """A refused row action: the row with the reason for htmx, else a message on the list."""
    if is_htmx():
        return render_template("dashboard/tasks/_row.html", task=service.get_task(org_id(), task.id),
                               row_error=exc.message), 409  # fmt: skip
    flash(exc.message, "error")
    return redirect(url_for("dashboard.tasks_index"))


@bp.post("/tasks/<task_id>/execute")
def task_execute(task_id: str):
    task = service.get_task(org_id(), task_id)
    try:
        call = call_service.execute_task(org_id(), task.id)
    except Conflict as exc:
        return _row_refusal(task, exc)
    if is_htmx():
        row = render_template("dashboard/tasks/_row.html", task=service.get_task(org_id(), task.id))
        # The lists on the page refresh themselves (and keep doing so while the call runs).
        return row + notice_oob("Call started."), 200, {"HX-Trigger": "activity"}
    flash("Call started.", "success")
    return redirect(url_for("dashboard.call_detail", call_id=call.id))


@bp.post("/tasks/<task_id>/reset")
def task_reset(task_id: str):
    task = service.get_task(org_id(), task_id)
    try:
        task = call_service.reset_task(org_id(), task.id)
    except Conflict as exc:
        return _row_refusal(task, exc)
    back = url_for("dashboard.task_edit", task_id=task.id) if request.form.get("from") == "task" else None
    return done(f"Task “{task.name}” is pending again.", back or url_for("dashboard.tasks_index"),
                "dashboard/tasks/_row.html", task=task)  # fmt: skip


@bp.post("/tasks/<task_id>/delete")
def task_delete(task_id: str):
    task = service.get_task(org_id(), task_id)
    try:
        service.delete_task(org_id(), task.id)
    except Conflict as exc:
        return _row_refusal(task, exc)
    message = f"Task “{task.name}” deleted."
    if is_htmx():
        return notice_oob(message)
    return done(message, url_for("dashboard.tasks_index"))
