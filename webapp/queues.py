"""The app's Redis connection, its RQ queues and the job registry.

A job is a plain function declared with `@job(queue=..., every=..., retry=...)` next to the
service it belongs to; callers enqueue it by reference (`enqueue(engine.finalize_call, call_id)`,
or `outbox.enqueue_after_commit(...)` from inside a transaction). Each job's queue, retry policy
and periodic interval are declared once, on the function.
"""

from collections.abc import Callable
from dataclasses import dataclass

import redis
from flask import Flask, current_app
from rq import Queue, Retry
from rq.job import Job

from .embedded_redis import ensure_embedded_redis

# Workers take jobs in this order. The periodic sync has a queue of its own, first, so that a backlog
# of placements or finalizations never holds back the live transcripts of the calls in progress.
QUEUE_NAMES = ("sync", "calls", "webhooks", "default")


@dataclass(frozen=True)
class JobSpec:
    func: Callable
    queue: str
    every: str | None  # config key holding the interval in seconds, for periodic jobs
    retry: tuple[float, ...]  # seconds before each RQ retry of a failed run; () for none

    @property
    def name(self) -> str:
        return f"{self.func.__module__}.{self.func.__qualname__}"


_registry: dict[str, JobSpec] = {}


def job(*, queue: str = "default", every: str | None = None, retry: tuple[float, ...] = ()):
    """Declare a job function: the queue it runs on, the config key of its interval if it is
    periodic, and the RQ retry delays when a run raises (only for jobs that are safe to re-run)."""
    if queue not in QUEUE_NAMES:
        raise ValueError(f"unknown queue {queue!r}")

    def register(func: Callable) -> Callable:
        spec = JobSpec(func=func, queue=queue, every=every, retry=tuple(retry))
        _registry[spec.name] = spec
        return func

    return register


def spec_for(func_or_name: Callable | str) -> JobSpec:
    name = func_or_name if isinstance(func_or_name, str) else f"{func_or_name.__module__}.{func_or_name.__qualname__}"
    try:
        return _registry[name]
    except KeyError:
        raise LookupError(f"{name} is not a declared job (missing @job?)") from None


def periodic_jobs() -> list[JobSpec]:
    return [spec for spec in _registry.values() if spec.every]


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


WAITING_TTL_SECONDS = 24 * 3600


def _waiting_key(name: str, args) -> str:
    return namespaced(f"waiting:{name}:{','.join(str(arg) for arg in args)}")


def enqueue(func: Callable, *args, at=None, job_id: str | None = None):
    """Enqueue a declared job on its queue (at a datetime if given). Inside a transaction, use
    outbox.enqueue_after_commit instead, so the job exists only if the change does. A marker says
    the job waits in Redis until a worker starts it, so the sweeps don't queue it again meanwhile."""
    spec = spec_for(func)
    # Nothing reads a finished job's result: not keeping it spares each job a few Redis writes.
    options = {"result_ttl": 0, "failure_ttl": 7 * 24 * 3600, "job_id": job_id}
    if spec.retry:
        options["retry"] = Retry(max=len(spec.retry), interval=list(spec.retry))
    target = queue(spec.queue)
    if at is not None:
        queued = target.enqueue_at(at, spec.name, *args, **options)
    else:
        queued = target.enqueue(spec.name, *args, **options)
    if not spec.every:
        redis_client().set(_waiting_key(spec.name, args), queued.id, ex=WAITING_TTL_SECONDS)
    return queued


def job_started(func_name: str, args) -> None:
    """A worker took the job: from now on only its own claim (or its death) decides."""
    redis_client().delete(_waiting_key(func_name, args))


_WAITING_STATUSES = (b"queued", b"scheduled", b"deferred")


def not_waiting(func: Callable, items: list) -> list:
    """The items whose job `func(item)` is not waiting in a queue (lost, never queued, or taken by a
    worker that died before job_started: its marker names a job that is no longer waiting)."""
    if not items:
        return []
    name = spec_for(func).name
    connection = redis_client()
    markers = connection.mget([_waiting_key(name, (item,)) for item in items])
    pipe = connection.pipeline(transaction=False)
    for marker in markers:
        if marker is not None:
            pipe.hget(Job.key_for(marker.decode()), "status")
    statuses = iter(pipe.execute())
    return [item for item, marker in zip(items, markers, strict=True)
            if marker is None or next(statuses) not in _WAITING_STATUSES]  # fmt: skip


def claim_periodic_slot(name: str, interval_seconds: float) -> bool:
    """True at most once per interval across all workers, and never while the last run is queued."""
    connection = redis_client()
    if not connection.set(namespaced(f"tick:{name}"), "1", px=max(1, int(interval_seconds * 1000)), nx=True):
        return False
    return bool(connection.set(namespaced(f"queued:{name}"), "1", ex=60, nx=True))


def release_periodic_slot(name: str) -> None:
    """Called as a periodic job starts, so the next tick may queue it again."""
    redis_client().delete(namespaced(f"queued:{name}"))


def lease(key: str, seconds: float) -> bool:
    """A short exclusive claim on some work across processes (True if this caller got it). It ends
    by itself after `seconds`, so a worker killed while holding it blocks nobody for longer."""
    return bool(redis_client().set(namespaced(f"lease:{key}"), "1", px=max(1, int(seconds * 1000)), nx=True))


def leased(keys: list[str]) -> list[bool]:
    """Whether each lease is held right now, in one round trip."""
    if not keys:
        return []
    return [held is not None for held in redis_client().mget([namespaced(f"lease:{key}") for key in keys])]


def end_lease(key: str) -> None:
    redis_client().delete(namespaced(f"lease:{key}"))


def lease_many(keys: list[str], seconds: float) -> list[bool]:
    """`lease` for several keys in one round trip; one bool per key."""
    pipe = redis_client().pipeline(transaction=False)
    for key in keys:
        pipe.set(namespaced(f"lease:{key}"), "1", px=max(1, int(seconds * 1000)), nx=True)
    return [bool(taken) for taken in pipe.execute()]


def end_leases(keys: list[str]) -> None:
    if keys:
        redis_client().delete(*(namespaced(f"lease:{key}") for key in keys))
