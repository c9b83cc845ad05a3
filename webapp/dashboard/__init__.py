"""The HTMX dashboard for business users and admins: overview, agents, tasks, calls, settings."""

from flask import Blueprint

bp = Blueprint("dashboard", __name__)

from . import access, activity, agents, calls, errors, filters, overview, settings, settings_keys, task_import, tasks  # noqa: E402,F401
