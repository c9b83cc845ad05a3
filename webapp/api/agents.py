from flask import Blueprint

from ..schemas.agents import AgentCreate, AgentListQuery, AgentOut, AgentUpdate
from ..services import agents as service
from . import queries, reads
from .endpoint import endpoint
from .envelope import ok
from .serialize import dump

bp = Blueprint("agents", __name__, url_prefix="/agents")


@bp.get("")
@endpoint("List agents", query=AgentListQuery, response=AgentOut, many=True)
def list_agents(principal, query: AgentListQuery):
    page = queries.list_agents(principal.organization_id, enabled=query.enabled, limit=query.limit, offset=query.offset)
    return reads.respond_page(AgentOut, page)


@bp.post("")
@endpoint("Create an agent", body=AgentCreate, response=AgentOut, status=201)
def create_agent(principal, body: AgentCreate):
    return ok(dump(AgentOut, service.create_agent(principal.organization_id, body)), 201)


@bp.get("/<agent_id>")
@endpoint("Get an agent", response=AgentOut, errors=(404,))
def get_agent(principal, agent_id: str):
    return reads.respond_model(AgentOut, queries.get_agent(principal.organization_id, agent_id))


@bp.patch("/<agent_id>")
@endpoint("Update an agent (partial)", body=AgentUpdate, response=AgentOut, errors=(404,))
def update_agent(principal, body: AgentUpdate, agent_id: str):
    return ok(dump(AgentOut, service.update_agent(principal.organization_id, agent_id, body)))


@bp.delete("/<agent_id>")
@endpoint("Delete an agent (only without pending or in-progress tasks)", errors=(404, 409))
def delete_agent(principal, agent_id: str):
    service.delete_agent(principal.organization_id, agent_id)
    return ok({"id": agent_id, "deleted": True})
