"""The app's Redis connection and RQ queues."""

import redis
from flask import Flask, current_app
from rq import Queue

from .embedded_redis import ensure_embedded_redis

# Workers take jobs in this order. The periodic sync has a queue of its own, first, so that a backlog
# of placements or finalizations never holds back the live transcripts of the calls in progress.
QUEUE_NAMES = ("sync", "calls", "webhooks", "default")


def resolve_redis_url(config: dict) -> str:
    return config.get("REDIS_URL") or ensure_embedded_redis(config["INSTANCE_PATH"])


def init_redis(app: Flask) -> None:
    app.config["REDIS_URL"] = resolve_redis_url(app.config)
    app.extensions["redis"] = redis.Redis.from_url(
        app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2, health_check_interval=30
    )


def redis_client() -> redis.Redis:
    return current_app.extensions["redis"]


def namespaced(key: str) -> str:
    return f"{current_app.config['REDIS_NAMESPACE']}:{key}"


def queue(name: str = "default") -> Queue:
    return Queue(namespaced(name), connection=redis_client())


JOB_QUEUES = {
    "start_call": "calls",
    "sync_active_calls": "sync",
    "finalize_call": "calls",
    "deliver_webhook": "webhooks",
    "dispatch_org": "calls",
}


def enqueue_job(name: str, *args, at=None, job_id: str | None = None):
    """Enqueue webapp.jobs.<name>(*args) on the queue it belongs to (at a datetime if given)."""
    target = queue(JOB_QUEUES.get(name, "default"))
    options = {"result_ttl": 60, "failure_ttl": 7 * 24 * 3600, "job_id": job_id}
    if at is not None:
        return target.enqueue_at(at, f"webapp.jobs.{name}", *args, **options)
    return target.enqueue(f"webapp.jobs.{name}", *args, **options)


def claim_periodic_slot(name: str, interval_seconds: float) -> bool:
    """True at most once per interval across all workers, and never while the last run is queued."""
    connection = redis_client()
    if not connection.set(namespaced(f"tick:{name}"), "1", px=max(1, int(interval_seconds * 1000)), nx=True):
        return False
    return bool(connection.set(namespaced(f"queued:{name}"), "1", ex=60, nx=True))


def release_periodic_slot(name: str) -> None:
    """Called as a periodic job starts, so the next tick may queue it again."""
    redis_client().delete(namespaced(f"queued:{name}"))
