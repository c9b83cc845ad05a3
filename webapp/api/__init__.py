"""The /api/v1 JSON API: one parent blueprint (rate limit, errors) and one child per resource."""

from flask import Blueprint

from . import agents, calls, campaigns, dnc, idempotency, keys, openapi, orgs, rate_limit, tasks, users

bp = Blueprint("api", __name__)

for child in (agents.bp, tasks.bp, campaigns.bp, dnc.bp, calls.bp, keys.bp, orgs.bp, users.bp, openapi.bp):
    bp.register_blueprint(child)

# One budget per key across every endpoint.
bp.before_request(rate_limit.check)
bp.after_request(rate_limit.add_headers)
bp.after_app_request(idempotency.record)
