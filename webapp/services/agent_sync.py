"""Mirroring agents to the telephony provider (ElevenLabs, also behind the Twilio bridge) when it needs them."""

from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import Agent, utcnow
from ..queues import enqueue_job
from ..telephony.base import ProviderError


def provider_needs_agents() -> bool:
    return current_app.config["TELEPHONY_PROVIDER"] in ("elevenlabs", "twilio")


def mark_for_sync(agent: Agent) -> None:
    agent.sync_status = "pending" if provider_needs_agents() else "not_required"


def enqueue(agent: Agent) -> None:
    if agent.sync_status != "pending":
        return
    enqueue_job("sync_agent", agent.id)


def push(agent: Agent) -> str:
    """Create or update the provider's copy of the agent; a failure is stored and retried later."""
    return "failed" if _push(agent) else "synced"


def _push(agent: Agent) -> ProviderError | None:
    from .engine import agent_spec, provider

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
    if not provider_needs_agents() or (agent.remote_agent_id and agent.sync_status == "synced"):
        return
    error = _push(agent)
    if error:
        raise ProviderError(f"The agent could not be synced first: {error.message}", unreachable=error.unreachable)


def retry_failed() -> int:
    """Queue another sync of each agent whose last sync failed AGENT_SYNC_RETRY_SECONDS ago or more."""
    if not provider_needs_agents():
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
        db.session.commit()
        if claimed:
            enqueue_job("sync_agent", agent_id)
            retried += 1
    return retried
