"""Numbers for the dashboard's overview: counts, calls by outcome, per-day series, recent calls,
and whether anything is running (the lists refresh themselves only then)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import lazyload

from ..extensions import db
from ..models import ACTIVE_CALL_STATUSES, Agent, Call, Task
from .scoping import owned

CHART_DAYS = 14


@dataclass(frozen=True)
class OutcomeGroup:
    key: str
    label: str
    definition: str


# What a call's end means to the business, in the order the overview shows them. Each ended call
# falls into exactly one group (see `outcome_group`).
OUTCOME_GROUPS = (
    OutcomeGroup("successful", "Reached, successful",
                 "Someone answered and the call reached its goal: confirmed, completed, a callback arranged "
                 "or a transfer to a person."),
    OutcomeGroup("unsuccessful", "Reached, not successful",
                 "Someone answered but the goal was not reached: they declined, or never said anything useful."),
    OutcomeGroup("opted_out", "Opted out",
                 "The person asked not to be called again (by voice or keypad). Counted apart from the others "
                 "because it binds future calls."),
    OutcomeGroup("voicemail", "Voicemail", "A recorded greeting answered; nobody was reached."),
    OutcomeGroup("no_answer", "No answer", "The phone rang out or was busy."),
    OutcomeGroup("failed", "Failed",
                 "The call could not be completed: the line dropped, an IVR menu could not be navigated, it was "
                 "cancelled, or the telephony provider reported an error."),
    OutcomeGroup("running", "Running", "Ringing or in conversation now."),
    OutcomeGroup("analysing", "Being analysed",
                 "Ended a moment ago; the report that decides its outcome is being prepared."),
)  # fmt: skip
NO_ANSWER_REASONS = frozenset({"no_answer", "busy"})


def outcome_group(status: str, failure_reason: str | None, outcome: str | None, successful: bool | None) -> str:
    if status in ACTIVE_CALL_STATUSES:
        return "running"
    if outcome == "opted_out":
        return "opted_out"
    if status == "failed":
        if failure_reason == "voicemail":
            return "voicemail"
        return "no_answer" if failure_reason in NO_ANSWER_REASONS else "failed"
    if outcome is None and successful is None:
        return "analysing"
    if outcome == "voicemail":
        return "voicemail"
    return "successful" if successful else "unsuccessful"


def _count(org_id: str, model, *conditions) -> int:
    statement = sa.select(sa.func.count()).select_from(model).where(model.organization_id == org_id, *conditions)
    return db.session.execute(statement).scalar_one()


def counts(org_id: str) -> dict:
    return {
        "agents": _count(org_id, Agent, Agent.deleted_at.is_(None)),
        "tasks": _count(org_id, Task),
        "pending_tasks": _count(org_id, Task, Task.status == "pending"),
    }


def call_stats(org_id: str) -> dict:
    """Totals, calls by outcome group, and success among the calls that reached someone (opt-outs
    included: they reached a person, who said no to all future calls)."""
    outcome = Call.report["outcome"].as_string()
    verdict = Call.report["call_successful"].as_boolean()
    rows = db.session.execute(
        sa.select(Call.status, Call.failure_reason, outcome, verdict, sa.func.count())
        .where(Call.organization_id == org_id)
        .group_by(Call.status, Call.failure_reason, outcome, verdict)
    ).all()
    by_group = {group.key: 0 for group in OUTCOME_GROUPS}
    by_status: dict[str, int] = {}
    for status, failure_reason, call_outcome, successful, count in rows:
        by_group[outcome_group(status, failure_reason, call_outcome, successful)] += count
        by_status[status] = by_status.get(status, 0) + count
    average = db.session.execute(
        sa.select(sa.func.avg(Call.duration_seconds)).where(
            Call.organization_id == org_id, Call.duration_seconds.is_not(None)
        )
    ).scalar_one()
    reached = by_group["successful"] + by_group["unsuccessful"] + by_group["opted_out"]
    return {
        "by_status": by_status,
        "by_group": by_group,
        "groups": OUTCOME_GROUPS,
        "total": sum(by_status.values()),
        "active": by_group["running"],
        "reached": reached,
        "success_rate": by_group["successful"] / reached if reached else None,
        "average_duration": float(average) if average is not None else None,
    }


def calls_per_day(org_id: str, days: int = CHART_DAYS, time_zone: str = "UTC") -> list:
    """[(day, {"completed": n, "failed": n, "active": n})] for the last `days` days in the
    organization's time zone, oldest first."""
    local = ZoneInfo(time_zone)
    today = datetime.now(local).date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=local)
    rows = db.session.execute(
        sa.select(Call.created_at, Call.status).where(Call.organization_id == org_id, Call.created_at >= since)
    ).all()
    per_day = {first + timedelta(days=offset): {} for offset in range(days)}
    for created_at, status in rows:
        series = "active" if status in ACTIVE_CALL_STATUSES else status
        created = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
        bucket = per_day.get(created.astimezone(local).date())
        if bucket is not None:
            bucket[series] = bucket.get(series, 0) + 1
    return list(per_day.items())


def recent_calls(org_id: str, limit: int = 5) -> list[Call]:
    statement = owned(Call, org_id).options(lazyload(Call.turns)).order_by(Call.created_at.desc()).limit(limit)
    return list(db.session.execute(statement).scalars())


def anything_running(org_id: str) -> bool:
    """A call ringing or in conversation, or a task whose call is on its way: lists refresh themselves."""
    call = db.session.execute(
        sa.select(Call.id).where(Call.organization_id == org_id, Call.status.in_(ACTIVE_CALL_STATUSES)).limit(1)
    ).first()
    if call is not None:
        return True
    task = db.session.execute(
        sa.select(Task.id).where(Task.organization_id == org_id, Task.status == "in_progress").limit(1)
    ).first()
    return task is not None
