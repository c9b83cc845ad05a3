"""Mirroring agents to the telephony provider when it needs them (Provider.needs_remote_agents).

An edit marks the agent `pending` and queues its sync after the commit; a sync that fails is
stored as `failed` and tried again AGENT_SYNC_RETRY_SECONDS later; one left `pending` by a lost job
is found by the sweep.
"""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Agent, utcnow
from ..outbox import enqueue_after_commit
from ..queues import end_lease, job, lease
from ..telephony.base import ProviderError
from .provider_gateway import agent_spec, needs_remote_agents, provider


def mark_for_sync(agent: Agent) -> None:
    """Part of the caller's transaction: the sync is queued once it commits."""
    if not needs_remote_agents():
        agent.sync_status = "not_required"
        return
    agent.sync_status = "pending"
    db.session.flush()  # the new agent's id
    enqueue_after_commit(sync_agent, agent.id)


@job(queue="default")
def sync_agent(agent_id: str) -> str:
    key = f"agent-sync:{agent_id}"
    if not lease(key, current_app.config["PROVIDER_TIMEOUT_SECONDS"] + 5):
        return "being synced by another worker"
    try:
        agent = db.session.get(Agent, agent_id)
        if agent is None or agent.sync_status != "pending":
            return "nothing to do"
        return push(agent)
    finally:
        end_lease(key)


def push(agent: Agent) -> str:
    """Create or update the provider's copy of the agent; a failure is stored and retried later."""
    return "failed" if _push(agent) else "synced"


def _push(agent: Agent) -> ProviderError | None:
    version = agent.updated_at
    try:
        remote_id = provider().sync_agent(agent_spec(agent))
    except ProviderError as exc:
        _record(agent.id, version, sync_status="failed", sync_error=exc.message)
        return exc
    _record(
        agent.id, version, remote_agent_id=remote_id or agent.remote_agent_id, sync_status="synced", sync_error=None
    )
    return None


def _record(agent_id: str, version, **outcome) -> None:
    """Store a sync outcome unless the agent was edited meanwhile: then it stays pending for the
    job its edit queued, keeping only the remote id (so that job updates instead of creating)."""
    stored = db.session.execute(
        sa.update(Agent).where(Agent.id == agent_id, Agent.updated_at == version).values(**outcome)
    ).rowcount
    if not stored and outcome.get("remote_agent_id"):
        db.session.execute(
            sa.update(Agent)
            .where(Agent.id == agent_id, Agent.remote_agent_id.is_(None))
            .values(remote_agent_id=outcome["remote_agent_id"])
        )
    db.session.commit()


def ensure_current(agent: Agent) -> None:
    """Before placing a call: push an agent the provider has no current copy of, so the call uses
    it and its remote id is stored. Raises ProviderError when that push fails."""
    if not needs_remote_agents() or (agent.remote_agent_id and agent.sync_status == "synced"):
        return
    error = _push(agent)
    if error:
        raise ProviderError(f"The agent could not be synced first: {error.message}", unreachable=error.unreachable)


def retry_failed() -> int:
    """Queue another sync of each agent whose last sync failed AGENT_SYNC_RETRY_SECONDS ago or more."""
    if not needs_remote_agents():
        return 0
    before = utcnow() - timedelta(seconds=current_app.config["AGENT_SYNC_RETRY_SECONDS"])
    failed = db.session.execute(
        sa.select(Agent.id).where(
            Agent.sync_status == "failed", Agent.deleted_at.is_(None), Agent.updated_at <= before
        )
    ).scalars().all()  # fmt: skip
    retried = 0
    for agent_id in failed:
        claimed = db.session.execute(
            sa.update(Agent).where(Agent.id == agent_id, Agent.sync_status == "failed").values(sync_status="pending")
        ).rowcount
        if claimed:
            enqueue_after_commit(sync_agent, agent_id)
            retried += 1
        db.session.commit()
    return retried


def redispatch_pending(older_than: timedelta) -> int:
    """Agents left `pending` (their sync job lost with a worker or never queued): queue it again."""
    if not needs_remote_agents():
        return 0
    stuck = db.session.execute(
        sa.select(Agent.id).where(
            Agent.sync_status == "pending", Agent.deleted_at.is_(None), Agent.updated_at <= utcnow() - older_than
        )
    ).scalars().all()  # fmt: skip
    for agent_id in stuck:
        enqueue_after_commit(sync_agent, agent_id)
    db.session.commit()
    return len(stuck)
