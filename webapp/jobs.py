"""RQ job functions: ids in, a service does the work. Each runs in the worker's app context and
is safe to run twice."""

from .extensions import db
from .models import Agent
from .queues import release_periodic_slot
from .services import agent_sync, engine, recordings, scheduler, webhooks


def start_call(call_id: str) -> str:
    return engine.start_call(call_id)


def sync_active_calls() -> int:
    release_periodic_slot("sync_active_calls")
    return engine.sync_active_calls()


def finalize_call(call_id: str) -> str:
    return engine.finalize_call(call_id)


def sweep_stale_calls() -> int:
    """Also queues another try of agent syncs that failed (each sweep, once they are old enough)."""
    release_periodic_slot("sweep_stale_calls")
    swept = engine.sweep_stale_calls()
    agent_sync.retry_failed()
    return swept


def store_recording(call_id: str, attempt: int = 1) -> str:
    return recordings.store_recording(call_id, attempt)


def deliver_webhook(delivery_id: str) -> str:
    return webhooks.deliver(delivery_id)


def dispatch_due_tasks() -> int:
    release_periodic_slot("dispatch_due_tasks")
    return scheduler.dispatch_due_tasks()


def sync_agent(agent_id: str) -> str:
    agent = db.session.get(Agent, agent_id)
    if agent is None or agent.sync_status != "pending":
        return "nothing to do"
    return agent_sync.push(agent)
