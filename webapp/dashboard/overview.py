"""Overview: calls by outcome, success rate, average duration, calls per day, and what to do next."""

from ..services import stats
from . import chart
from .access import membership, org_id
from .blueprint import bp
from .views import page_or_partial


@bp.get("/")
def overview():
    organization, time_zone = org_id(), membership().organization.time_zone
    context = {"counts": stats.counts(organization), "stats": stats.call_stats(organization),
               "chart": chart.bars(stats.calls_per_day(organization, time_zone=time_zone)),
               "recent": stats.recent_calls(organization), "time_zone": time_zone,
               "chart_days": stats.CHART_DAYS, "running": stats.anything_running(organization)}  # fmt: skip
    return page_or_partial("dashboard/overview.html", "dashboard/_overview_body.html", **context)
