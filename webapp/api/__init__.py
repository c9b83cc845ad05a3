"""The /api/v1 JSON API: one parent blueprint (rate limit, errors) and one child per resource."""

from flask import Blueprint, current_app

from ..extensions import limiter
from . import agents, calls, campaigns, dnc, idempotency, keys, openapi, orgs, tasks, users

bp = Blueprint("api", __name__)

for child in (agents.bp, tasks.bp, campaigns.bp, dnc.bp, calls.bp, keys.bp, orgs.bp, users.bp, openapi.bp):
    bp.register_blueprint(child)

# One budget per key across every endpoint (a plain blueprint limit would count each endpoint apart).
limiter.shared_limit(lambda: current_app.config["RATE_LIMIT"], scope="api")(bp)
bp.after_app_request(idempotency.record)
