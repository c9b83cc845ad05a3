"""Live fan-out: WebSocket clients on active calls under the production gunicorn command; events are
published through webapp.events.publish with their send time, and each client measures
publish → receive latency."""

import statistics
import time

import redis

from webapp import events

from . import seed
from .env import BenchEnv, gunicorn
from .ws_clients import Clients

TRANSCRIPT = [  # a realistic transcript_update body: the transcript so far and the newest turn
    {"role": "agent" if n % 2 == 0 else "user", "text": text, "start_seconds": n * 4.0, "end_seconds": n * 4.0 + 3.2}
    for n, text in enumerate(
        [
            "Hello Jane Roe, this is Acme about order A-1001.",
            "Oh hi, yes, I was expecting your call.",
            "Your delivery is scheduled for tomorrow between nine and noon. Does that still work for you?",
            "Tomorrow morning is fine, but could they ring the bell twice? The doorbell is quiet.",
            "Of course, I have added a note for the driver to ring twice.",
            "Perfect, thank you so much.",
        ]
    )
]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def latency_summary(values_ms: list[float]) -> dict:
    if not values_ms:
        return {"samples": 0}
    return {
        "samples": len(values_ms),
        "p50": round(percentile(values_ms, 0.50), 2),
        "p90": round(percentile(values_ms, 0.90), 2),
        "p99": round(percentile(values_ms, 0.99), 2),
        "max": round(max(values_ms), 2),
        "mean": round(statistics.fmean(values_ms), 2),
    }


def run(env: BenchEnv, *, smoke: bool) -> list[tuple[str, dict]]:
    calls, per_call, rate, seconds = (4, 5, 4, 3) if smoke else (20, 10, 4, 15)
    env.reset()
    with env.connect() as conn:
        org = seed.create_org(conn, "Fan-out org")
        seed.add_agents(conn, org, 1)
        seed.add_tasks(conn, org, ["+14155550123"] * calls, status="in_progress")
        call_ids = seed.add_active_calls(conn, org, calls)
    server, base = gunicorn(env, "wsgi:app", "gunicorn-fanout")
    clients = Clients(seconds=seconds + 90)
    try:
        started = time.monotonic()
        for call_id in call_ids:
            for _ in range(per_call):
                clients.add(call_id, f"{base.replace('http', 'ws')}/ws/calls/{call_id}?api_key={org.api_key}")
        clients.close()
        clients.wait_connected(calls * per_call, timeout=90)
        connect_seconds = time.monotonic() - started
        published = _publish(redis.Redis.from_url(env.redis_url), env.namespace, call_ids, rate, seconds)
        records = clients.results(timeout=60)
    finally:
        server.stop()
    shape = {"calls": calls, "per_call": per_call, "rate": rate, "seconds": seconds}
    return [("live_fanout", _result(shape, records, published, connect_seconds))]


def _result(shape: dict, records: list, published: int, connect_seconds: float) -> dict:
    latencies = [(at - message["sent_at"]) * 1000 for _, at, message in records if message.get("sent_at")]
    errors = [message["status"] for _, _, message in records if message["type"] == "client_error"]
    summary = latency_summary(latencies)
    clients, expected = shape["calls"] * shape["per_call"], published * shape["per_call"]
    return {
        "what": f"{clients} WebSocket clients on {shape['calls']} active calls ({shape['per_call']} per call), each"
        f" call publishing {shape['rate']} transcript_update events/s for {shape['seconds']} s through"
        " webapp.events.publish; latency = client receive time - publish time",
        "clients": clients,
        "calls": shape["calls"],
        "events_published": published,
        "messages_expected": expected,
        "messages_received": summary["samples"],
        "client_errors": errors[:5],
        "connect_all_seconds": round(connect_seconds, 2),
        "latency_ms": summary,
        "targets": {"p99_ms_below": 100, "every_message_delivered": True},
        "met": {"p99": summary.get("p99", 1e9) < 100, "delivered": summary["samples"] == expected},
    }


def _publish(connection: redis.Redis, namespace: str, call_ids: list[str], rate: float, seconds: float) -> int:
    """Each call publishes `rate` events per second, spread evenly; then every call ends."""
    interval = 1 / (rate * len(call_ids))
    published = 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        call_id = call_ids[published % len(call_ids)]
        data = {
            "call_id": call_id,
            "transcript": TRANSCRIPT,
            "new_turns": TRANSCRIPT[-1:],
            "bench_sent_at": time.time(),
        }
        events.publish(connection, namespace, call_id, events.message("transcript_update", data))
        published += 1
        time.sleep(max(0.0, (published * interval) - (time.monotonic() - start)))
    for call_id in call_ids:
        status = {"call_id": call_id, "status": "completed", "failure_reason": None, "end_reason": "ended_by_agent"}
        events.publish(connection, namespace, call_id, events.message("call_status_update", status))
    return published
