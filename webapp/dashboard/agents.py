"""Agents: list, create, edit (voice settings and DTMF rules), enable/disable, delete."""

from flask import flash, make_response, redirect, render_template, request, url_for

from ..errors import AppError, Conflict
from ..schemas.agents import DTMF_ACTIONS, AgentCreate, AgentUpdate
from ..services import agents as service
from . import agent_form
from .access import org_id
from .blueprint import bp
from .forms import service_errors, validate
from .views import done, is_htmx, page_number, page_or_partial

PAGE_SIZE = 25


def _list_context() -> dict:
    page = page_number()
    rows, total = service.list_agents(org_id(), enabled=None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return {"agents": rows, "total": total, "page": page, "page_size": PAGE_SIZE}


@bp.get("/agents")
def agents_index():
    return page_or_partial("dashboard/agents/index.html", "dashboard/agents/_list.html", **_list_context())


def _render_form(agent, values: dict, errors: dict[str, str], status: int = 200):
    context = {"agent": agent, "values": values, "errors": errors, "actions": DTMF_ACTIONS,
               "dtmf_keys": agent_form.DTMF_KEYS}  # fmt: skip
    return render_template("dashboard/agents/form.html", **context), status


def _save(agent=None):
    """Validate the posted form with the API's schemas; save, or show each error next to its field."""
    values = agent_form.values_from_form()
    payload, errors = agent_form.payload_from_values(values)
    data, schema_errors = validate(AgentUpdate if agent else AgentCreate, payload)
    errors.update(schema_errors)
    if not errors:
        try:
            saved = service.update_agent(org_id(), agent.id, data) if agent else service.create_agent(org_id(), data)
        except AppError as exc:
            errors = service_errors(exc)
        else:
            verb = "saved" if agent else "created"
            return done(f"Agent “{saved.name}” {verb}.", url_for("dashboard.agents_index"))
    return _render_form(agent, values, errors, 400)


@bp.route("/agents/new", methods=["GET", "POST"])
def agent_new():
    if request.method == "GET":
        return _render_form(None, agent_form.blank_values(), {})
    return _save()


@bp.route("/agents/<agent_id>", methods=["GET", "POST"])
def agent_edit(agent_id: str):
    agent = service.get_agent(org_id(), agent_id)
    if request.method == "GET":
        return _render_form(agent, agent_form.values_from_agent(agent), {})
    return _save(agent)


@bp.post("/agents/<agent_id>/toggle")
def agent_toggle(agent_id: str):
    agent = service.get_agent(org_id(), agent_id)
    agent = service.update_agent(org_id(), agent.id, AgentUpdate(enabled=not agent.enabled))
    state = "enabled" if agent.enabled else "disabled"
    return done(f"Agent “{agent.name}” {state}.", url_for("dashboard.agents_index"), "dashboard/agents/_row.html",
                agent=agent)  # fmt: skip


@bp.post("/agents/<agent_id>/delete")
def agent_delete(agent_id: str):
    """Refused while the agent has pending or in-progress tasks (the API's rule)."""
    agent = service.get_agent(org_id(), agent_id)
    try:
        service.delete_agent(org_id(), agent.id)
    except Conflict as exc:
        if is_htmx():
            return render_template("dashboard/agents/_row.html", agent=agent, row_error=exc.message), 409
        flash(exc.message, "error")
        return redirect(url_for("dashboard.agents_index"))
    message = f"Agent “{agent.name}” deleted."
    if not is_htmx():
        return done(message, url_for("dashboard.agents_index"))
    response = make_response(render_template("dashboard/agents/_list.html", notice=message, **_list_context()))
    response.headers.update({"HX-Retarget": "#agent-list", "HX-Reswap": "outerHTML"})
    return response
