"""Campaign rules and writes: create with inline rows, add rows in pages, counters, lifecycle."""

import redis
import sqlalchemy as sa

from ..errors import Conflict, Invalid, NotFound
from ..extensions import db
from ..models import Campaign, Task, utcnow
from ..models.base import new_id
from ..schemas.campaigns import NOT_NULLABLE_CAMPAIGN_FIELDS, CampaignCreate, CampaignUpdate
from . import dispatch, resource_counts
from .agents import get_agent
from .campaign_rows import RowCheck, check_rows
from .scoping import apply_fields, get_owned, owned, page

INSERT_CHUNK = 1000
COUNTER_NAMES = ("pending", "waiting_for_window", "in_progress", "retry_scheduled", "completed", "failed", "skipped")
# Task status_reason values that make a pending task count as waiting rather than pending.
WAITING_REASONS = {"waiting_for_window": "waiting_for_window", "retry_scheduled": "retry_scheduled"}


def list_campaigns(org_id: str, *, status=None, limit: int, offset: int):
    statement = owned(Campaign, org_id)
    if status is not None:
        statement = statement.where(Campaign.status == status)
    known = resource_counts.total(org_id, "campaigns", status)
    return page(statement, order_by=(Campaign.created_at.desc(), Campaign.id), limit=limit, offset=offset,
                known_total=known)  # fmt: skip


def get_campaign(org_id: str, campaign_id: str) -> Campaign:
    return get_owned(Campaign, campaign_id, org_id, "Campaign")


def counters(campaign_ids: list[str]) -> dict[str, dict[str, int]]:
    """Live task counts per campaign, in one grouped query."""
    result = {cid: dict.fromkeys(("total", *COUNTER_NAMES), 0) for cid in campaign_ids}
    if not campaign_ids:
        return result
    rows = db.session.execute(
        sa.select(Task.campaign_id, Task.status, Task.status_reason, sa.func.count())
        .where(Task.campaign_id.in_(campaign_ids))
        .group_by(Task.campaign_id, Task.status, Task.status_reason)
    ).all()
    for campaign_id, status, reason, count in rows:
        name = WAITING_REASONS.get(reason, status) if status == "pending" else status
        result[campaign_id][name] += count
        result[campaign_id]["total"] += count
    return result


def outcomes(campaign_id: str) -> list[tuple[str, int]]:
    """How the campaign's finished tasks ended: completed, each failure reason, skipped reasons."""
    rows = db.session.execute(
        sa.select(Task.status, Task.status_reason, sa.func.count())
        .where(Task.campaign_id == campaign_id, Task.status.in_(("completed", "failed", "skipped")))
        .group_by(Task.status, Task.status_reason)
    ).all()
    counted: dict[str, int] = {}
    for status, reason, count in rows:
        name = "completed" if status == "completed" else (reason or status)
        counted[name] = counted.get(name, 0) + count
    return sorted(counted.items(), key=lambda item: -item[1])


def with_counters(campaigns: list[Campaign]) -> list[Campaign]:
    counts = counters([campaign.id for campaign in campaigns])
    for campaign in campaigns:
        campaign.counters = counts[campaign.id]
    return campaigns


def _agent_for(org_id: str, agent_id: str):
    try:
        agent = get_agent(org_id, agent_id)
    except NotFound:
        raise Invalid("Validation failed", {"agent_id": "no such agent in your organization"}) from None
    return agent


def create_campaign(org_id: str, data: CampaignCreate) -> tuple[Campaign, RowCheck]:
    """The campaign and its accepted rows in one transaction (nothing is stored when the request as
    a whole is invalid); rejected rows are returned with their reasons."""
    agent = _agent_for(org_id, data.agent_id)
    fields = data.model_dump(mode="json", exclude={"tasks"})
    fields["start_at"], fields["end_at"] = data.start_at, data.end_at
    campaign = Campaign(organization_id=org_id, status="draft", **fields)
    db.session.add(campaign)
    db.session.flush()
    check = check_rows(org_id, agent, data.tasks, existing_numbers=set())
    _insert_tasks(campaign, check, dispatch_after=None)
    db.session.commit()
    return campaign, check


def add_tasks(org_id: str, campaign_id: str, rows: list) -> tuple[Campaign, RowCheck]:
    campaign = get_campaign(org_id, campaign_id)
    if campaign.status not in ("draft", "running", "paused"):
        raise Conflict(f"Tasks can't be added to a {campaign.status} campaign", {"status": campaign.status})
    agent = _agent_for(org_id, campaign.agent_id)
    existing = set(db.session.execute(sa.select(Task.to_number).where(Task.campaign_id == campaign.id)).scalars())
    check = check_rows(org_id, agent, rows, existing_numbers=existing)
    _insert_tasks(campaign, check, dispatch_after=_dispatch_start(campaign) if campaign.status != "draft" else None)
    db.session.commit()
    return campaign, check


def _insert_tasks(campaign: Campaign, check: RowCheck, *, dispatch_after) -> None:
    now = utcnow()
    values = [
        {
            "id": new_id(),
            "organization_id": campaign.organization_id,
            "campaign_id": campaign.id,
            "agent_id": campaign.agent_id,
            "name": row["name"] or f"{campaign.name[:150]} #{index + 1}",
            "to_number": row["to_number"],
            "context_data": row["context_data"],
            "priority": row["priority"],
            "webhook_url": campaign.webhook_url,
            "webhook_events": list(campaign.webhook_events or []),
            "status": "pending",
            "attempt_count": 0,
            "dispatch_after": dispatch_after,
            "created_at": now,
            "updated_at": now,
        }
        for index, row in check.accepted
    ]
    for start in range(0, len(values), INSERT_CHUNK):
        db.session.execute(sa.insert(Task), values[start : start + INSERT_CHUNK])
    resource_counts.adjust(campaign.organization_id, "tasks", "pending", len(values))


def update_campaign(org_id: str, campaign_id: str, data: CampaignUpdate) -> Campaign:
    campaign = get_campaign(org_id, campaign_id)
    if campaign.status in ("completed", "cancelled"):
        raise Conflict(f"A {campaign.status} campaign can't be changed", {"status": campaign.status})
    fields = data.model_dump(mode="json", exclude_unset=True)
    nulls = [name for name in NOT_NULLABLE_CAMPAIGN_FIELDS if name in fields and fields[name] is None]
    if nulls:
        raise Invalid("Validation failed", {name: "must not be null" for name in nulls})
    if "end_at" in fields:
        fields["end_at"] = data.end_at
        if data.end_at and campaign.start_at and data.end_at <= campaign.start_at:
            raise Invalid("Validation failed", {"end_at": "must be after start_at"})
    apply_fields(campaign, fields)
    if "calling_window" in fields:  # waiting tasks are judged against the new window right away
        _requeue_waiting(campaign)
    db.session.commit()
    return campaign


def _requeue_waiting(campaign: Campaign) -> None:
    db.session.execute(
        sa.update(Task)
        .where(Task.campaign_id == campaign.id, Task.status == "pending", Task.status_reason == "waiting_for_window")
        .values(dispatch_after=utcnow(), status_reason=None)
    )


def _dispatch_start(campaign: Campaign):
    now = utcnow()
    return max(now, campaign.start_at) if campaign.start_at else now


def _transition(org_id: str, campaign_id: str, allowed: tuple[str, ...], action: str) -> Campaign:
    campaign = get_campaign(org_id, campaign_id)
    if campaign.status not in allowed:
        raise Conflict(f"A {campaign.status} campaign can't be {action}", {"status": campaign.status})
    return campaign


def start_campaign(org_id: str, campaign_id: str) -> Campaign:
    campaign = _transition(org_id, campaign_id, ("draft",), "started")
    _agent_for(org_id, campaign.agent_id)
    campaign.status = "running"
    campaign.started_at = utcnow()
    db.session.execute(
        sa.update(Task)
        .where(Task.campaign_id == campaign.id, Task.status == "pending", Task.dispatch_after.is_(None))
        .values(dispatch_after=_dispatch_start(campaign))
    )
    db.session.commit()
    _nudge(org_id)
    return campaign


def pause_campaign(org_id: str, campaign_id: str) -> Campaign:
    campaign = _transition(org_id, campaign_id, ("running",), "paused")
    campaign.status = "paused"
    db.session.commit()
    return campaign


def resume_campaign(org_id: str, campaign_id: str) -> Campaign:
    campaign = _transition(org_id, campaign_id, ("paused",), "resumed")
    campaign.status = "running"
    db.session.commit()
    _nudge(org_id)
    return campaign


def cancel_campaign(org_id: str, campaign_id: str) -> Campaign:
    """Pending tasks fail with `campaign_cancelled`; calls in progress finish."""
    campaign = _transition(org_id, campaign_id, ("draft", "running", "paused"), "cancelled")
    now = utcnow()
    campaign.status = "cancelled"
    campaign.finished_at = now
    failed = db.session.execute(
        sa.update(Task)
        .where(Task.campaign_id == campaign.id, Task.status == "pending")
        .values(status="failed", status_reason="campaign_cancelled", dispatch_after=None, finished_at=now,
                updated_at=now)
    ).rowcount  # fmt: skip
    resource_counts.moved(org_id, "tasks", "pending", "failed", failed)
    db.session.commit()
    return campaign


def _nudge(org_id: str) -> None:
    try:
        dispatch.request_dispatch(org_id)
    except redis.RedisError:
        pass  # the periodic pass starts it within DISPATCH_INTERVAL_SECONDS
