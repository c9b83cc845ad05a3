"""The HTMX dashboard for business users and admins: overview, agents, tasks, calls, settings."""

from . import access, activity, agents, calls, errors, filters, overview, settings, settings_keys, task_import, tasks  # noqa: F401 - each registers its views on bp
from .blueprint import bp

__all__ = ["bp"]
