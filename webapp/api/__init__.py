"""The /api/v1 JSON API: one parent blueprint (rate limit, errors) and one child per resource."""

from flask import Blueprint, current_app

from ..extensions import limiter
from . import agents, calls, keys, openapi, orgs, tasks, users

bp = Blueprint("api", __name__)

for child in (agents.bp, tasks.bp, calls.bp, keys.bp, orgs.bp, users.bp, openapi.bp):
    bp.register_blueprint(child)

limiter.limit(lambda: current_app.config["RATE_LIMIT"])(bp)
