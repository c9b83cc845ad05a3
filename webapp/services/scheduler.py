"""Tasks with scheduled_at start by themselves when due (higher priority first); then the dispatcher
places what waits in the queue (campaigns, executes beyond the cap)."""

import logging

import sqlalchemy as sa

from ..errors import AppError
from ..extensions import db
from ..models import Task, utcnow
from ..queues import job
from . import dispatch
from .calls import execute_task

log = logging.getLogger(__name__)

BATCH = 200


@job(queue="default", every="DISPATCH_INTERVAL_SECONDS")
def dispatch_due_tasks() -> int:
    due = db.session.execute(
        sa.select(Task.id, Task.organization_id)
        .where(
            Task.status == "pending",
            Task.scheduled_at.is_not(None),
            Task.scheduled_at <= utcnow(),
            Task.campaign_id.is_(None),
            Task.dispatch_after.is_(None),
        )
        .order_by(Task.priority.desc(), Task.scheduled_at, Task.created_at)
        .limit(BATCH)
    ).all()
    started = 0
    for task_id, org_id in due:
        try:
            execute_task(org_id, task_id)
            started += 1
        except AppError as exc:  # taken by a concurrent execute, agent disabled, ...
            db.session.rollback()
            log.info("scheduled task %s not started: %s", task_id, exc.message)
    return started + dispatch.dispatch_pass()
