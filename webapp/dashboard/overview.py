"""Overview: calls by outcome, success rate, average duration, calls per day, and what to do next."""

from ..services import stats
from . import chart
from .access import org_id
from .blueprint import bp
from .views import page_or_partial


@bp.get("/")
def overview():
    organization = org_id()
    context = {"counts": stats.counts(organization), "stats": stats.call_stats(organization),
               "chart": chart.bars(stats.calls_per_day(organization)), "recent": stats.recent_calls(organization),
               "chart_days": stats.CHART_DAYS, "running": stats.anything_running(organization)}  # fmt: skip
    return page_or_partial("dashboard/overview.html", "dashboard/_overview_body.html", **context)
