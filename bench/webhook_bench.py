"""Webhook delivery throughput: pending deliveries queued as the engine queues them, delivered by
`python worker.py --processes 2` to a local receiver; rate = deliveries / (last arrival - first)."""

import json
import time
from datetime import UTC, datetime

from . import seed
from .cpu import CpuMeter
from .env import BenchEnv, free_port, worker
from .receiver import Receiver

PROCESSES = 2


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


def _seed_deliveries(env: BenchEnv, count: int, url: str) -> list[str]:
    """`count` finished calls, each with a pending call_completed delivery; returns the delivery ids."""
    with env.connect() as conn:
        org = seed.create_org(conn, "Webhook org")
        seed.add_agents(conn, org, 1)
        seed.add_tasks(conn, org, ["+14155550123"] * 10, webhook_url=url, webhook_events=("call_completed",))
        seed.add_finished_calls(conn, org, count)
        now = datetime.now(UTC)
        rows = []
        for call_id, task_id in conn.execute("SELECT id, task_id FROM calls").fetchall():
            delivery_id = seed.new_id()
            rows.append({"id": delivery_id, "organization_id": org.org_id, "call_id": call_id, "task_id": task_id,
                         "event_type": "call_completed", "url": url, "payload": _payload(delivery_id, call_id, task_id),
                         "status": "pending", "attempt_count": 0, "created_at": now, "updated_at": now})  # fmt: skip
        seed.copy_rows(conn, "webhook_deliveries", rows)
    return [row["id"] for row in rows]


def _delivered(env: BenchEnv) -> int:
    with env.connect() as conn:
        return conn.execute("SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered'").fetchone()[0]


def run(env: BenchEnv, *, smoke: bool) -> list[tuple[str, dict]]:
    count = 100 if smoke else 4000
    env.reset()
    receiver = Receiver(env, free_port())
    try:
        ids = _seed_deliveries(env, count, receiver.url + "/hooks")
        with env.app_context():
            from webapp.queues import enqueue
            from webapp.services.webhooks import deliver

            for delivery_id in ids:  # exactly how webhooks.schedule queues a delivery (after its commit)
                enqueue(deliver, delivery_id)
        started = time.time()
        workers = worker(env, PROCESSES)
        meter = CpuMeter(workers.pid)
        meter.start()
        try:
            deadline = time.monotonic() + (60 if smoke else 300)
            while (stats := receiver.stats())["count"] < count and time.monotonic() < deadline:
                time.sleep(0.2)
            delivered = _delivered(env)
            while delivered < count and time.monotonic() < deadline:
                time.sleep(0.2)
                delivered = _delivered(env)
            cpu = meter.stop()
        finally:
            workers.stop()
        stats = receiver.stats()
    finally:
        receiver.stop()
    return [("webhooks", _result(count, stats, delivered, started, cpu))]


def _result(count: int, stats: dict, delivered: int, started: float, cpu: dict) -> dict:
    span = (stats["last"] - stats["first"]) if stats["count"] > 1 else None
    rate = round((stats["count"] - 1) / span, 1) if span else 0.0
    return {
        "what": f"{count} queued call_completed deliveries sent by `python worker.py --processes {PROCESSES}`"
        " to a local keep-alive HTTP receiver (signed, attempt recorded, delivery row updated)",
        "deliveries": count,
        "received": stats["count"],
        "unique_received": stats["unique"],
        "delivered_in_database": delivered,
        "seconds_first_to_last_arrival": round(span or 0, 2),
        "seconds_from_worker_start": round(stats["last"] - started, 2) if stats["last"] else None,
        "deliveries_per_second": rate,
        "cpu_ms_per_delivery": {name: round(spent * 1000 / count, 2) for name, spent in cpu.items() if name != "wrk"},
        "targets": {"deliveries_per_second_at_least": 200},
        "met": {"rate": rate >= 200, "all_delivered": delivered == count == stats["unique"]},
    }
