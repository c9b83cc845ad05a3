"""Mirroring agents to the telephony provider (ElevenLabs) when the provider needs it."""

from flask import current_app

from ..models import Agent


def provider_needs_agents() -> bool:
    return current_app.config["TELEPHONY_PROVIDER"] == "elevenlabs"


def mark_for_sync(agent: Agent) -> None:
    agent.sync_status = "pending" if provider_needs_agents() else "not_required"


def enqueue(agent: Agent) -> None:
    if agent.sync_status != "pending":
        return
    from ..queues import enqueue_job

    enqueue_job("sync_agent", agent.id)


def push(agent: Agent) -> str:
    """Create or update the provider's copy of the agent; a failure is stored and retried later."""
    from ..extensions import db
    from ..telephony.base import ProviderError
    from .engine import agent_spec, provider

    try:
        remote_id = provider().sync_agent(agent_spec(agent))
    except ProviderError as exc:
        agent.sync_status, agent.sync_error = "failed", exc.message
        db.session.commit()
        return "failed"
    agent.remote_agent_id = remote_id or agent.remote_agent_id
    agent.sync_status, agent.sync_error = "synced", None
    db.session.commit()
    return "synced"
