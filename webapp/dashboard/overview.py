"""Overview: calls by status, success rate, average duration, calls per day, and what to do next."""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from ..extensions import db
from ..models import ACTIVE_CALL_STATUSES, Agent, Call, Task
from ..services.scoping import owned
from . import bp, chart
from .access import org_id
from .views import page_or_partial

CHART_DAYS = 14


def _count(model, *conditions) -> int:
    statement = sa.select(sa.func.count()).select_from(model).where(model.organization_id == org_id(), *conditions)
    return db.session.execute(statement).scalar_one()


def call_stats() -> dict:
    by_status = dict(
        db.session.execute(
            sa.select(Call.status, sa.func.count()).where(Call.organization_id == org_id()).group_by(Call.status)
        ).all()
    )
    average = db.session.execute(
        sa.select(sa.func.avg(Call.duration_seconds)).where(
            Call.organization_id == org_id(), Call.duration_seconds.is_not(None)
        )
    ).scalar_one()
    verdict = Call.report["call_successful"].as_boolean()
    successful, judged = db.session.execute(
        sa.select(sa.func.count(sa.case((verdict, 1))), sa.func.count(verdict)).where(
            Call.organization_id == org_id(), Call.report.is_not(None)
        )
    ).one()
    return {
        "by_status": by_status,
        "total": sum(by_status.values()),
        "active": sum(by_status.get(status, 0) for status in ACTIVE_CALL_STATUSES),
        "success_rate": successful / judged if judged else None,
        "judged": judged,
        "average_duration": float(average) if average is not None else None,
    }


def calls_per_day(days: int = CHART_DAYS) -> list:
    """[(day, {"completed": n, "failed": n, "active": n})] for the last `days` days (UTC), oldest first."""
    today = datetime.now(UTC).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    rows = db.session.execute(
        sa.select(Call.created_at, Call.status).where(Call.organization_id == org_id(), Call.created_at >= since)
    ).all()
    counts = {first + timedelta(days=offset): {} for offset in range(days)}
    for created_at, status in rows:
        series = "active" if status in ACTIVE_CALL_STATUSES else status
        bucket = counts.get(created_at.astimezone(UTC).date())
        if bucket is not None:
            bucket[series] = bucket.get(series, 0) + 1
    return list(counts.items())


def recent_calls(limit: int = 5) -> list[Call]:
    statement = owned(Call, org_id()).options(lazyload(Call.turns)).order_by(Call.created_at.desc()).limit(limit)
    return list(db.session.execute(statement).scalars())


@bp.get("/")
def overview():
    counts = {
        "agents": _count(Agent, Agent.deleted_at.is_(None)),
        "tasks": _count(Task),
        "pending_tasks": _count(Task, Task.status == "pending"),
    }
    stats = call_stats()
    context = {"counts": counts, "stats": stats, "chart": chart.bars(calls_per_day()), "recent": recent_calls(),
               "chart_days": CHART_DAYS}  # fmt: skip
    return page_or_partial("dashboard/overview.html", "dashboard/_overview_body.html", **context)
