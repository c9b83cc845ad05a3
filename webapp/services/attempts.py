"""What a task does when its call ends: final, or back in the queue for another attempt.

Runs inside the transaction that makes the call terminal, so the task's next state is committed
together with the call's end.
"""

from datetime import datetime, timedelta

import sqlalchemy as sa

from ..extensions import db
from ..models import Call, Campaign, Task, utcnow


def backoff(campaign: Campaign, outcome: str) -> timedelta:
    minutes = campaign.backoff_minutes
    if isinstance(minutes, dict):
        minutes = minutes.get(outcome, 0)
    return timedelta(minutes=float(minutes or 0))


def settle(task: Task, call: Call, now: datetime) -> None:
    """`task.status` already follows the call (completed/failed)."""
    task.status_reason = call.failure_reason if call.status == "failed" else None
    if task.campaign_id is None:
        return
    campaign = db.session.get(Campaign, task.campaign_id)
    if call.status != "failed" or campaign is None or campaign.status not in ("running", "paused"):
        return
    if _fence_unplaced(call):  # never dialled (placement lost for too long): not an attempt
        _requeue(task, now, reason=None)
        task.attempt_count = max(0, (task.attempt_count or 1) - 1)
        return
    if call.failure_reason in (campaign.retry_on or ()) and task.attempt_count < campaign.max_attempts:
        _requeue(task, now + backoff(campaign, call.failure_reason), reason="retry_scheduled")


def _fence_unplaced(call: Call) -> bool:
    """True when the call's placement was never claimed, and makes sure it never will be: the
    claim (engine.start_call) needs placing_started_at empty, and this conditional UPDATE fills it
    first (row lock on PostgreSQL, write lock on SQLite), so the task can go back to the queue
    without any chance of the old call ringing too."""
    if call.placing_started_at is not None:
        return False
    fenced = db.session.execute(
        sa.update(Call)
        .where(Call.id == call.id, Call.placing_started_at.is_(None))
        .values(placing_started_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    return fenced == 1


def _requeue(task: Task, when: datetime, *, reason: str | None) -> None:
    task.status = "pending"
    task.status_reason = reason
    task.dispatch_after = when
    task.finished_at = None
