"""A read-only picture of the job queues and workers for operators (Settings → Queues).

Queues are shared by every organization of the deployment, so this shows counts, worker health and
which kinds of job failed, never a job's arguments or error text (they name other tenants' calls).
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from rq import Worker
from rq.job import Job
from rq.registry import DeferredJobRegistry, FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from ..queues import QUEUE_NAMES, queue

RECENT_FAILURES = 20


@dataclass
class QueueRow:
    name: str
    waiting: int
    running: int
    scheduled: int
    deferred: int
    failed: int


@dataclass
class WorkerRow:
    name: str
    state: str
    queues: str
    current_job: str | None
    last_heartbeat: datetime | None
    seconds_since_heartbeat: float | None
    successful_jobs: int
    failed_jobs: int


@dataclass
class FailureRow:
    queue: str
    function: str
    failed_at: datetime | None
    error: str


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _short_function(job: Job | None) -> str | None:
    if job is None:
        return None
    name = job.func_name or ""
    return name.rsplit(".", 1)[-1] or "?"


def queue_rows() -> list[QueueRow]:
    rows = []
    for name in QUEUE_NAMES:
        target = queue(name)
        rows.append(QueueRow(
            name=name, waiting=target.count,
            running=StartedJobRegistry(queue=target).count, scheduled=ScheduledJobRegistry(queue=target).count,
            deferred=DeferredJobRegistry(queue=target).count, failed=FailedJobRegistry(queue=target).count,
        ))  # fmt: skip
    return rows


def worker_rows() -> list[WorkerRow]:
    now = datetime.now(UTC)
    seen: dict[str, Worker] = {}
    for name in QUEUE_NAMES:
        for worker in Worker.all(queue=queue(name)):
            seen[worker.name] = worker
    rows = []
    for worker in sorted(seen.values(), key=lambda item: item.name):
        beat = _aware(worker.last_heartbeat)
        rows.append(WorkerRow(
            name=worker.name, state=str(worker.get_state()),
            queues=", ".join(name.split(":", 1)[-1] for name in worker.queue_names()),
            current_job=_short_function(worker.get_current_job()), last_heartbeat=beat,
            seconds_since_heartbeat=round((now - beat).total_seconds(), 1) if beat else None,
            successful_jobs=worker.successful_job_count, failed_jobs=worker.failed_job_count,
        ))  # fmt: skip
    return rows


def recent_failures(limit: int = RECENT_FAILURES) -> list[FailureRow]:
    failures = []
    for name in QUEUE_NAMES:
        registry = FailedJobRegistry(queue=queue(name))
        for job in Job.fetch_many(registry.get_job_ids(0, limit - 1), connection=registry.connection):
            if job is None:
                continue
            error = (job.latest_result().exc_string or "") if job.latest_result() else ""
            last_line = error.strip().splitlines()[-1] if error.strip() else ""
            failures.append(FailureRow(queue=name, function=_short_function(job) or "?",
                                       failed_at=_aware(job.ended_at), error=last_line.split(":", 1)[0]))  # fmt: skip
    failures.sort(key=lambda row: row.failed_at or datetime.min.replace(tzinfo=UTC), reverse=True)
    return failures[:limit]


def overview() -> dict:
    return {"queues": queue_rows(), "workers": worker_rows(), "failures": recent_failures()}
