"""Settings → Queues: the job queues and workers of this deployment, for owners and admins."""

from ..services import queue_stats
from .access import admin_required
from .blueprint import bp
from .views import page_or_partial


@bp.get("/operations/queues")
@admin_required
def operations_queues():
    return page_or_partial("dashboard/operations/queues.html", "dashboard/operations/_queues.html",
                           **queue_stats.overview())  # fmt: skip
