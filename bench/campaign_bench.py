"""A campaign at full pace: 10,000 tasks uploaded in one POST /campaigns through gunicorn, the
organization's max_concurrent_calls = 200, conducted by 2 worker processes against the simulated
provider.

Measures, from the calls table (each call holds its slot from its row's creation to its end, the
same rule the dispatcher counts by): the highest concurrency ever reached (must stay ≤ 200); how
soon a freed slot is taken again (the n-th call to end, paired with the (200 + n)-th call to be
created while work was waiting); the dispatch overhead per call (call row created → placement
claimed by a worker, and worker CPU seconds per call); and the workers' memory along the way.
"""

import statistics
import threading
import time

import psutil
import requests

from . import seed
from .cpu import CpuMeter
from .env import BenchEnv, gunicorn, worker


def _percentiles(values: list[float]) -> dict:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": at(0.5), "p99": at(0.99), "max": round(ordered[-1], 1), "mean": round(statistics.mean(values), 1)}


class MemoryWatch(threading.Thread):
    """RSS of the worker process tree every second."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.samples: list[tuple[float, float]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                tree = [self.root, *self.root.children(recursive=True)]
                rss = sum(process.memory_info().rss for process in tree if process.is_running())
                self.samples.append((time.time(), rss / 2**20))
            except psutil.Error:
                pass
            self.stopping.wait(1.0)


def run(env: BenchEnv, *, smoke: bool) -> list[tuple[str, dict]]:
    count, cap, scale = (24, 6, 40) if smoke else (10_000, 200, 10)
    timeout = 150 if smoke else 1800
    env.reset()
    with env.connect() as conn:
        org = seed.create_org(conn, "Campaign org")
        seed.add_agents(conn, org, 1)
        conn.execute("UPDATE organizations SET max_concurrent_calls = %s WHERE id = %s", (cap, org.org_id))
        agent_id = conn.execute("SELECT id FROM agents WHERE organization_id = %s", (org.org_id,)).fetchone()[0]
        conn.commit()
    settings = {"SIMULATOR_TIME_SCALE": str(scale)}
    server, base = gunicorn(env, "wsgi:app", "gunicorn-campaign", settings)
    workers = worker(env, 2, settings)
    memory = MemoryWatch(workers.pid)
    meter = CpuMeter(workers.pid)
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {org.api_key}"
    rows = [
        {"to_number": f"+1415{555 + i // 10000}{i % 10000:04d}",
         "context_data": {"customer_name": f"Customer {i}", "order_id": f"A-{i}"}}
        for i in range(count)
    ]  # fmt: skip
    try:
        uploaded = time.time()
        response = session.post(f"{base}/api/v1/campaigns", timeout=300, json={
            "name": "Bench", "agent_id": agent_id, "max_concurrent_calls": cap, "tasks": rows})  # fmt: skip
        response.raise_for_status()
        created = response.json()["data"]
        if created["accepted"] != count:
            raise RuntimeError(f"rows refused: {created['rejected'][:3]}")
        campaign_id = created["id"]
        upload_seconds = time.time() - uploaded
        memory.start()
        meter.start()
        started = time.time()
        session.post(f"{base}/api/v1/campaigns/{campaign_id}/start", timeout=30).raise_for_status()
        deadline = time.monotonic() + timeout
        status = None
        while time.monotonic() < deadline:
            status = session.get(f"{base}/api/v1/campaigns/{campaign_id}", timeout=30).json()["data"]
            if status["status"] == "completed":
                break
            time.sleep(1.0)
        took = time.time() - started
        cpu = meter.stop()
    finally:
        memory.stopping.set()
        workers.stop()
        server.stop()
    return [("campaign", _result(env, count, cap, scale, upload_seconds, took, status, cpu, memory.samples))]


def _result(env, count, cap, scale, upload_seconds, took, status, cpu, memory) -> dict:
    with env.connect() as conn:
        calls = conn.execute(
            "SELECT extract(epoch FROM created_at), extract(epoch FROM ended_at),"
            " extract(epoch FROM placing_started_at) FROM calls"
        ).fetchall()
    events = sorted([(float(c), 1) for c, _, _ in calls] + [(float(e), -1) for _, e, _ in calls if e is not None],
                    key=lambda event: (event[0], event[1]))  # fmt: skip
    current = peak = 0
    for _, delta in events:
        current += delta
        peak = max(peak, current)
    starts = sorted(float(c) for c, _, _ in calls)
    ends = sorted(float(e) for _, e, _ in calls if e is not None)
    reuse_ms = [(starts[cap + n] - end) * 1000 for n, end in enumerate(ends) if cap + n < len(starts)]
    claim_ms = [(float(p) - float(c)) * 1000 for c, _, p in calls if p is not None]
    rss = [mb for _, mb in memory]
    third = max(1, len(rss) // 3)
    counters = (status or {}).get("counters", {})
    return {
        "what": f"{count} tasks in one campaign (one POST), max_concurrent_calls={cap} for the organization and"
        f" the campaign, 2 worker processes, simulated provider at SIMULATOR_TIME_SCALE={scale}",
        "calls": len(calls),
        "completed": counters.get("completed"),
        "failed": counters.get("failed"),
        "upload_seconds": round(upload_seconds, 1),
        "campaign_seconds": round(took, 1),
        "peak_concurrency": peak,
        "slot_reuse_ms": _percentiles([max(0.0, value) for value in reuse_ms]),
        "dispatch_to_placement_ms": _percentiles(claim_ms),
        "worker_cpu_ms_per_call": round(1000 * cpu.get("server", 0.0) / max(1, len(calls)), 2),
        "cpu_seconds": cpu,
        "worker_rss_mb": {  # the first third includes start-up (imports, first connections)
            "middle_third_max": round(max(rss[third:-third] or rss, default=0), 1),
            "last_third_max": round(max(rss[-third:], default=0), 1),
        },
        "targets": {"peak_concurrency_at_most": cap, "slot_reuse_p99_ms_below": 1000},
        "met": {
            "all_done": (status or {}).get("status") == "completed" and len(calls) == count,
            "cap": peak <= cap,
            "slot_reuse": _percentiles(reuse_ms).get("p99", 1e9) < 1000,
            "flat_memory": max(rss[-third:], default=0) <= 1.1 * max(rss[third:-third] or rss, default=0) + 5,
        },
    }
