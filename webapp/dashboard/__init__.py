"""The HTMX dashboard for business users and admins: overview, agents, tasks, calls, settings."""

from . import (  # noqa: F401 - each registers its views on bp
    access,
    activity,
    agents,
    calls,
    campaigns,
    dnc,
    errors,
    extracted,
    filters,
    operations,
    overview,
    settings,
    settings_account,
    settings_keys,
    settings_members,
    task_import,
    tasks,
)
from .blueprint import bp

__all__ = ["bp"]
