"""Pacing: which queued tasks are dialled now, never beyond the organization's or a campaign's cap.

The slot count is a database reservation. Every dispatch decision for an organization first takes
its row lock (an UPDATE of `organizations.dispatch_seq`: a row lock on PostgreSQL, the write lock on
SQLite), then counts the organization's active calls and creates the new calls in the same
transaction. A call is a slot from the moment its row exists until it ends, so no number of web and
worker processes can hold more slots than the cap, and a crashed process leaks none.

Queued tasks (`status = pending` with `dispatch_after` set) are taken by priority then age, one
organization at a time, so one organization's big campaign never delays another's calls.
"""

import logging
import random
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import ACTIVE_CALL_STATUSES, Agent, Call, Campaign, Organization, Task, utcnow
from ..outbox import enqueue_after_commit
from ..queues import enqueue, job, namespaced, redis_client
from . import dnc, resource_counts, windows

log = logging.getLogger(__name__)

ORGS_PER_PASS = 500
EXTRA_CANDIDATES = 20  # rows read past the free slots, for tasks that turn out to wait
ROUNDS = 4
# By name: the engine imports this module (a call that ends frees a slot), so not the other way round.
START_CALL = "webapp.services.engine.start_call"


def lock_org(org_id: str) -> int:
    """Take the organization's dispatch lock (held until commit/rollback); returns its cap."""
    db.session.execute(
        sa.update(Organization)
        .where(Organization.id == org_id)
        .values(dispatch_seq=Organization.dispatch_seq + 1, updated_at=Organization.updated_at)
    )
    return db.session.execute(
        sa.select(Organization.max_concurrent_calls).where(Organization.id == org_id)
    ).scalar_one()


def org_time_zone(org_id: str) -> str:
    """Calling windows use it for numbers without a zone of their own."""
    return db.session.execute(sa.select(Organization.time_zone).where(Organization.id == org_id)).scalar_one()


def active_calls(org_id: str) -> int:
    return db.session.execute(
        sa.select(sa.func.count())
        .select_from(Call)
        .where(Call.organization_id == org_id, Call.status.in_(ACTIVE_CALL_STATUSES))
    ).scalar_one()


def active_by_campaign(org_id: str) -> dict[str, int]:
    rows = db.session.execute(
        sa.select(Call.campaign_id, sa.func.count())
        .where(Call.organization_id == org_id, Call.status.in_(ACTIVE_CALL_STATUSES), Call.campaign_id.is_not(None))
        .group_by(Call.campaign_id)
    ).all()
    return dict(rows)


def free_slots(org_id: str) -> int:
    """Slots free now under the organization's cap; takes the lock (the caller commits)."""
    return lock_org(org_id) - active_calls(org_id)


def claim(task_id: str, org_id: str, now: datetime) -> Call | None:
    """pending → in_progress in one conditional UPDATE plus the attempt's call; None if another
    process took the task first."""
    claimed = db.session.execute(
        sa.update(Task)
        .where(Task.id == task_id, Task.status == "pending")
        .values(status="in_progress", executed_at=now, finished_at=None, dispatch_after=None, status_reason=None,
                attempt_count=Task.attempt_count + 1, updated_at=now)
    ).rowcount  # fmt: skip
    if claimed != 1:
        return None
    resource_counts.moved(org_id, "tasks", "pending", "in_progress", 1)
    task = db.session.execute(
        sa.select(Task.agent_id, Task.to_number, Task.campaign_id, Task.attempt_count).where(Task.id == task_id)
    ).one()
    call = Call(
        organization_id=org_id,
        task_id=task_id,
        agent_id=task.agent_id,
        to_number=task.to_number,
        campaign_id=task.campaign_id,
        attempt_number=task.attempt_count,
        status="initiated",
        provider=current_app.config["TELEPHONY_PROVIDER"],
        last_event_at=now,
    )
    db.session.add(call)
    db.session.flush()
    db.session.execute(sa.update(Task).where(Task.id == task_id).values(last_call_id=call.id))
    return call


def _eligible(now: datetime):
    return (
        sa.select(Task.id, Task.campaign_id, Task.to_number)
        .outerjoin(Campaign, Campaign.id == Task.campaign_id)
        .join(Agent, Agent.id == Task.agent_id)
        .where(
            Task.status == "pending",
            Task.dispatch_after <= now,
            sa.or_(Task.campaign_id.is_(None), Campaign.status == "running"),
            Agent.enabled.is_(True),
            Agent.deleted_at.is_(None),
        )
    )


def _set_task(org_id: str, task_id: str, **values) -> None:
    changed = db.session.execute(
        sa.update(Task).where(Task.id == task_id, Task.status == "pending").values(updated_at=utcnow(), **values)
    ).rowcount
    if "status" in values:
        resource_counts.moved(org_id, "tasks", "pending", values["status"], changed)


def dispatch_org(org_id: str, now: datetime | None = None) -> list[str]:
    """Dial what this organization may dial now; returns the new calls' ids (their start_call
    jobs are queued once the transaction is committed)."""
    now = now or utcnow()
    db.session.commit()  # the lock must be the first write of its own transaction
    room = free_slots(org_id)
    started: list[str] = []
    campaign_room: dict[str, int] = {}
    campaigns: dict[str, Campaign] = {}
    full: set[str] = set()
    org_zone: str | None = None  # read once, when a calling window first needs it
    for _ in range(ROUNDS):
        if room <= 0:
            break
        statement = _eligible(now).where(Task.organization_id == org_id)
        if full:
            statement = statement.where(sa.or_(Task.campaign_id.is_(None), Task.campaign_id.not_in(full)))
        rows = db.session.execute(
            statement.order_by(Task.priority.desc(), Task.dispatch_after, Task.created_at).limit(
                room + EXTRA_CANDIDATES
            )
        ).all()
        if not rows:
            break
        new_ids = {row.campaign_id for row in rows if row.campaign_id and row.campaign_id not in campaigns}
        if new_ids:
            for campaign in db.session.execute(sa.select(Campaign).where(Campaign.id.in_(new_ids))).scalars():
                campaigns[campaign.id] = campaign
            active = active_by_campaign(org_id)
            for campaign_id in new_ids:
                campaign_room[campaign_id] = campaigns[campaign_id].max_concurrent_calls - active.get(campaign_id, 0)
        listed = dnc.listed_numbers(org_id, [row.to_number for row in rows])
        for row in rows:
            if room <= 0:
                break
            campaign = campaigns.get(row.campaign_id) if row.campaign_id else None
            if campaign is not None:
                if campaign_room[campaign.id] <= 0:
                    full.add(campaign.id)
                    continue
                if campaign.end_at is not None and now >= campaign.end_at:
                    continue  # finish_campaigns closes it
                if campaign.calling_window and org_zone is None:
                    org_zone = org_time_zone(org_id)
                opens = windows.next_open(campaign.calling_window, row.to_number, now, org_zone or "UTC")
                if opens is None:
                    _set_task(org_id, row.id, status="skipped", status_reason="no_calling_window",
                              dispatch_after=None, finished_at=now)  # fmt: skip
                    continue
                if opens > now:
                    _set_task(org_id, row.id, dispatch_after=opens, status_reason="waiting_for_window")
                    continue
            if row.to_number in listed:
                _set_task(
                    org_id, row.id, status="skipped", status_reason="do_not_call", dispatch_after=None, finished_at=now
                )
                continue
            call = claim(row.id, org_id, now)
            if call is not None:
                enqueue_after_commit(START_CALL, call.id)  # a lost one is placed by the sweep
                started.append(call.id)
                room -= 1
                if campaign is not None:
                    campaign_room[campaign.id] -= 1
    db.session.commit()
    return started


def finish_campaigns(now: datetime | None = None) -> int:
    """Running campaigns past end_at fail what is left (`campaign_ended`); running campaigns with
    nothing left to dial or in progress are completed."""
    now = now or utcnow()
    ended = db.session.execute(
        sa.select(Campaign.id).where(Campaign.status == "running", Campaign.end_at <= now)
    ).scalars().all()  # fmt: skip
    if ended:
        failed = db.session.execute(
            sa.update(Task)
            .where(Task.campaign_id.in_(ended), Task.status == "pending")
            .values(status="failed", status_reason="campaign_ended", dispatch_after=None, finished_at=now,
                    updated_at=now)
            .returning(Task.organization_id)
        ).scalars()  # fmt: skip
        resource_counts.moved_returning("tasks", "pending", "failed", failed)
    open_tasks = sa.select(Task.id).where(Task.campaign_id == Campaign.id, Task.status.in_(("pending", "in_progress")))
    completed = db.session.execute(
        sa.update(Campaign)
        .where(Campaign.status == "running", ~sa.exists(open_tasks))
        .values(status="completed", finished_at=now, updated_at=now)
        .returning(Campaign.organization_id)
        .execution_options(synchronize_session=False)
    ).scalars()
    done = resource_counts.moved_returning("campaigns", "running", "completed", completed)
    db.session.commit()
    return done


def dispatch_pass(now: datetime | None = None) -> int:
    """One pass over every organization with something due. Returns how many calls started."""
    now = now or utcnow()
    finish_campaigns(now)
    org_ids = db.session.execute(
        _eligible(now).with_only_columns(Task.organization_id).distinct().limit(ORGS_PER_PASS)
    ).scalars().all()  # fmt: skip
    random.shuffle(org_ids)  # no organization is always last
    started = 0
    for org_id in org_ids:
        started += len(dispatch_org(org_id, now))
    return started


def request_dispatch(org_id: str) -> None:
    """A slot may have freed (a call ended) or work arrived: dispatch this organization soon. At
    most one such job waits per organization; the periodic pass covers a lost one. Runs after
    commit (outbox.after_commit), so no database here."""
    if redis_client().set(namespaced(f"dispatch-queued:{org_id}"), "1", ex=30, nx=True):
        enqueue(dispatch_requested, org_id)


@job(queue="calls")
def dispatch_requested(org_id: str) -> int:
    redis_client().delete(namespaced(f"dispatch-queued:{org_id}"))
    return len(dispatch_org(org_id))
