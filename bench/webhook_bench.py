"""Webhook delivery throughput: pending deliveries dispatched as the app dispatches them, delivered by
`python worker.py --processes 2` to a local receiver; rate = deliveries / (last arrival - first), CPU
per delivery from /proc. With BENCH_PROFILE_DIR set, py-spy profiles each phase (bench/profile.py)."""

import json
import time
from datetime import UTC, datetime

from . import profile, seed
from .cpu import CpuMeter
from .env import BenchEnv, Process, free_port, worker
from .load import LoadWatch
from .receiver import Receiver

PROCESSES = 2
TARGET_RATE = 500  # deliveries per second
TARGET_CPU_MS = 3.0  # worker CPU per delivery


def _payload(delivery_id: str, call_id: str, task_id: str) -> str:
    """The contract's body, as webhooks.payload_for builds it for a completed call."""
    return json.dumps(
        {
            "event_type": "call_completed",
            "event_id": delivery_id,
            "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "task_id": task_id,
            "call_id": call_id,
            "status": "completed",
            "data": {
                "failure_reason": None,
                "end_reason": "ended_by_agent",
                "duration_seconds": 43.6,
                "transcript_excerpt": "agent: Hello Jane Roe, this is Acme about order A-1001. user: Oh hi, yes...",
                "report_excerpt": "The customer confirmed the delivery window.",
                "outcome": "confirmed",
                "call_successful": True,
            },
        }
    )


def _seed_deliveries(env: BenchEnv, counts: dict[str, int]) -> list[list[str]]:
    """`counts[url]` finished calls per URL, each with a pending call_completed delivery to that URL;
    returns the delivery ids per URL."""
    urls = list(counts)
    with env.connect() as conn:
        org = seed.create_org(conn, "Webhook org")
        seed.add_agents(conn, org, 1)
        seed.add_tasks(conn, org, ["+14155550123"] * 10, webhook_url=urls[0], webhook_events=("call_completed",))
        seed.add_finished_calls(conn, org, sum(counts.values()))
        now = datetime.now(UTC)
        targets = [url for url in urls for _ in range(counts[url])]
        rows = []
        calls = conn.execute("SELECT id, task_id FROM calls ORDER BY id").fetchall()
        for url, (call_id, task_id) in zip(targets, calls, strict=True):
            delivery_id = seed.new_id()
            rows.append({"id": delivery_id, "organization_id": org.org_id, "call_id": call_id, "task_id": task_id,
                         "event_type": "call_completed", "url": url, "payload": _payload(delivery_id, call_id, task_id),
                         "status": "pending", "attempt_count": 0, "created_at": now, "updated_at": now})  # fmt: skip
        seed.copy_rows(conn, "webhook_deliveries", rows)
        # The seed leaves a few calls in progress; ended and finalized, they cost the workers nothing
        # (no finalization, recording or extra webhook) while deliveries are measured.
        conn.execute("UPDATE calls SET status = 'completed', ended_at = now(), finalized_at = now()"
                     " WHERE finalized_at IS NULL")  # fmt: skip
    return [[row["id"] for row in rows if row["url"] == url] for url in urls]


def _wait_for_workers(processes: int, timeout: float = 120) -> None:
    from rq import Worker

    from webapp.queues import queue

    deadline = time.monotonic() + timeout
    while Worker.count(queue=queue("webhooks")) < processes:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{processes} worker processes did not start within {timeout} s")
        time.sleep(0.2)


def _one_job_each(ids: list[str]) -> None:
    """The baseline: one RQ job per delivery (how every delivery was sent before batching; how a
    scheduled retry is still sent)."""
    from webapp.queues import enqueue
    from webapp.services.webhooks import deliver

    for delivery_id in ids:
        enqueue(deliver, delivery_id)


def _due_now(ids: list[str]) -> None:
    """Exactly what happens after the commit of each delivery's transaction (webhooks.schedule)."""
    from webapp.services.webhooks import push_due

    for delivery_id in ids:
        push_due([delivery_id])


def _delivered(env: BenchEnv, url: str) -> int:
    with env.connect() as conn:
        query = "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered' AND url = %s"
        return conn.execute(query, (url,)).fetchone()[0]


def _phase(env: BenchEnv, receiver: Receiver, workers: Process, url: str, ids: list[str], dispatch, timeout) -> dict:
    """Dispatch the deliveries to a running worker and measure until every one is delivered."""
    path = url.removeprefix(receiver.url)
    watch = LoadWatch(env.database_url, env.redis_url).start()
    profiler = profile.maybe_profile(workers.pid, f"webhooks{path.replace('/', '-')}")
    meter = CpuMeter(workers.pid)
    meter.start()
    started = time.time()
    with env.app_context():
        dispatch(ids)
    deadline = time.monotonic() + timeout
    while (stats := receiver.stats(path))["count"] < len(ids) and time.monotonic() < deadline:
        time.sleep(0.2)
    while (delivered := _delivered(env, url)) < len(ids) and time.monotonic() < deadline:
        time.sleep(0.2)
    cpu = meter.stop()
    profiled = profiler.stop() if profiler else None
    stats = receiver.stats(path)
    span = (stats["last"] - stats["first"]) if stats["count"] > 1 else None
    return {
        "deliveries": len(ids),
        "received": stats["count"],
        "unique_received": stats["unique"],
        "delivered_in_database": delivered,
        "seconds_first_to_last_arrival": round(span or 0, 2),
        "seconds_from_dispatch": round(stats["last"] - started, 2) if stats["last"] else None,
        "deliveries_per_second": round((stats["count"] - 1) / span, 1) if span else 0.0,
        "cpu_ms_per_delivery": {
            name: round(spent * 1000 / len(ids), 2) for name, spent in cpu.items() if name != "wrk"
        },
        "machine_load": watch.stop(),
        **({"profile": profiled} if profiled else {}),
    }


def run(env: BenchEnv, *, smoke: bool) -> list[tuple[str, dict]]:
    """Two phases against the same running workers: the baseline (one job per delivery), then the
    batched path. Compare them by their ratio: absolute figures move with the machine's load."""
    count = 100 if smoke else 2000
    baseline_count = 50 if smoke else 500  # the slow path: fewer, the figures are per delivery
    timeout = 60 if smoke else 300
    env.reset()
    receiver = Receiver(env, free_port())
    try:
        urls = [receiver.url + "/one-job-each", receiver.url + "/batched"]
        baseline_ids, batched_ids = _seed_deliveries(env, {urls[0]: baseline_count, urls[1]: count})
        workers = worker(env, PROCESSES)
        try:
            with env.app_context():
                _wait_for_workers(PROCESSES)  # their start-up (imports, app) is not counted per delivery
            baseline = _phase(env, receiver, workers, urls[0], baseline_ids, _one_job_each, timeout)
            batched = _phase(env, receiver, workers, urls[1], batched_ids, _due_now, timeout)
        finally:
            workers.stop()
    finally:
        receiver.stop()
    return [("webhooks", _result(batched, baseline))]


def _ratio(after: float, before: float) -> float | None:
    return round(after / before, 2) if before else None


def _result(batched: dict, baseline: dict) -> dict:
    rate = batched["deliveries_per_second"]
    worker_cpu_ms = batched["cpu_ms_per_delivery"]["server"]
    return {
        "what": f"{batched['deliveries']} call_completed deliveries due at once, sent by `python worker.py --processes"
        f" {PROCESSES}` to a local keep-alive HTTP receiver (signed, SSRF-checked, attempt recorded, delivery row"
        f" updated), after a baseline phase of {baseline['deliveries']} sent one RQ job per delivery by the same"
        " workers",
        **batched,
        "baseline_one_job_per_delivery": baseline,
        "batched_vs_baseline": {
            "deliveries_per_second": _ratio(rate, baseline["deliveries_per_second"]),
            "worker_cpu_ms_per_delivery": _ratio(worker_cpu_ms, baseline["cpu_ms_per_delivery"]["server"]),
        },
        "targets": {"deliveries_per_second_at_least": TARGET_RATE, "worker_cpu_ms_per_delivery_at_most": TARGET_CPU_MS},
        "met": {
            "rate": rate >= TARGET_RATE,
            "worker_cpu": worker_cpu_ms <= TARGET_CPU_MS,
            "all_delivered": batched["delivered_in_database"] == batched["deliveries"] == batched["unique_received"],
        },
    }
