"""What a task does when its call ends: final, or back in the queue for another attempt.

Runs inside the transaction that makes the call terminal, so the task's next state is committed
together with the call's end.
"""

from datetime import datetime, timedelta

from ..extensions import db
from ..models import Call, Campaign, Task


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
    if call.dial_started_at is None:  # never dialled (worker died, queue lost): not an attempt
        _requeue(task, now, reason=None)
        task.attempt_count = max(0, (task.attempt_count or 1) - 1)
        return
    if call.failure_reason in (campaign.retry_on or ()) and task.attempt_count < campaign.max_attempts:
        _requeue(task, now + backoff(campaign, call.failure_reason), reason="retry_scheduled")


def _requeue(task: Task, when: datetime, *, reason: str | None) -> None:
    task.status = "pending"
    task.status_reason = reason
    task.dispatch_after = when
    task.finished_at = None
