"""The HTMX dashboard for business users and admins: overview, agents, tasks, calls, settings."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from . import (  # noqa: E402,F401
    access,
    agents,
    calls,
    errors,
    filters,
    overview,
    settings,
    settings_account,
    settings_keys,
    settings_members,
    task_import,
    tasks,
)
