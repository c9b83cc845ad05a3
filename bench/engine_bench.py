"""The call engine under load: tasks executed through the API (gunicorn), conducted by ONE worker
process (`python worker.py --processes 1`) against the simulated provider at a compressed time
scale, with webhooks to a local receiver and WebSocket clients on a sample of the calls.

Measures the time until every call is terminal, finalized and its webhooks delivered; the most
calls that one worker process had in progress at once; and the live transcript lag: when a turn
ended on the simulated call (placed_at + (ring + turn end) / time scale) → when a socket got it.
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

from . import seed
from .cpu import CpuMeter
from .env import BenchEnv, free_port, gunicorn, worker
from .fanout_bench import latency_summary
from .receiver import Receiver
from .ws_clients import Clients

NUMBERS = [
    ("+14155550123", 0.80),
    ("+15005550001", 0.05),
    ("+15005550002", 0.05),
    ("+15005550003", 0.05),
    ("+15005550004", 0.05),
]
EVENTS = ("call_started", "call_completed", "call_failed")
SNAPSHOT_SQL = """
SELECT count(*) FILTER (WHERE status IN ('initiated', 'in_progress') AND provider_call_id IS NOT NULL),
       count(*) FILTER (WHERE status IN ('completed', 'failed')),
       count(*) FILTER (WHERE finalized_at IS NOT NULL),
       (SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered')
FROM calls
"""


def _numbers(count: int) -> list[str]:
    numbers = []
    for number, share in NUMBERS:
        numbers += [number] * round(count * share)
    return (numbers * 2)[:count]


class Monitor(threading.Thread):
    """Samples the calls table every 0.2 s: placed-and-active, terminal, finalized, webhooks delivered."""

    def __init__(self, env: BenchEnv):
        super().__init__(daemon=True)
        self.env = env
        self.samples: list[tuple[float, int, int, int, int]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with self.env.connect() as conn:
            conn.autocommit = True
            while not self.stopping.is_set():
                self.samples.append((time.time(), *conn.execute(SNAPSHOT_SQL).fetchone()))
                self.stopping.wait(0.2)

    def latest(self) -> tuple[float, int, int, int, int]:
        return self.samples[-1] if self.samples else (time.time(), 0, 0, 0, 0)

    def final(self) -> tuple[float, int, int, int, int]:
        with self.env.connect() as conn:
            return (time.time(), *conn.execute(SNAPSHOT_SQL).fetchone())


def _execute_all(base: str, api_key: str, task_ids: list[str]) -> list[tuple[str, float]]:
    """POST /tasks/:id/execute for every task from 16 client threads; returns (call id, time) pairs."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key}"

    def execute(task_id: str) -> tuple[str, float]:
        response = session.post(f"{base}/api/v1/tasks/{task_id}/execute", timeout=30)
        response.raise_for_status()
        return response.json()["data"]["call_id"], time.time()

    with ThreadPoolExecutor(16) as pool:
        return list(pool.map(execute, task_ids))


def _transcript_lag_ms(env: BenchEnv, records: list) -> list[float]:
    """Socket receive time minus the moment each turn ended on its simulated call."""
    first_seen: dict[tuple, float] = {}
    for call_id, received, message in records:
        for role, start, end in message.get("new_turns") or ():
            first_seen.setdefault((call_id, role, start, end), received)
    call_ids = list({key[0] for key in first_seen})
    with env.connect() as conn:
        rows = conn.execute("SELECT id, provider_data FROM calls WHERE id = ANY(%s)", (call_ids,)).fetchall()
    placed = {call_id: data for call_id, data in rows}
    lags = []
    for (call_id, _, _, end), received in first_seen.items():
        data = placed[call_id]
        ended_at = data["placed_at"] + (data["ring_seconds"] + end) / data["time_scale"]
        lags.append((received - ended_at) * 1000)
    return lags


def run(env: BenchEnv, *, smoke: bool) -> list[tuple[str, dict]]:
    count, scale, sample_every = (20, 40, 5) if smoke else (1000, 3, 20)
    timeout = 120 if smoke else 420
    env.reset()
    receiver = Receiver(env, free_port())
    with env.connect() as conn:
        org = seed.create_org(conn, "Engine org")
        seed.add_agents(conn, org, 1)
        task_ids = seed.add_tasks(
            conn, org, _numbers(count), webhook_url=receiver.url + "/hooks", webhook_events=EVENTS, status="pending"
        )
    settings = {"SIMULATOR_TIME_SCALE": str(scale)}
    server, base = gunicorn(env, "wsgi:app", "gunicorn-engine", settings)
    conductor = worker(env, 1, settings)
    clients = Clients(seconds=timeout)
    monitor = Monitor(env)
    meter = CpuMeter(conductor.pid)
    try:
        monitor.start()
        meter.start()
        started = time.time()
        executed = []
        for index, (call_id, _) in enumerate(_execute_all(base, org.api_key, task_ids)):
            executed.append(call_id)
            if index % sample_every == 0:
                clients.add(call_id, f"{base.replace('http', 'ws')}/ws/calls/{call_id}?api_key={org.api_key}")
        clients.close()
        executed_in = time.time() - started
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            _, _, _, finalized, _ = monitor.latest()
            if finalized == count and receiver.stats()["count"] >= 2 * count:
                break
            time.sleep(0.2)
        done_in = time.time() - started
        cpu = meter.stop()
        records = clients.results(timeout=60)
    finally:
        monitor.stopping.set()
        conductor.stop()
        server.stop()
        receiver.stop()
    monitor.join()
    return [("engine", _result(env, count, scale, executed_in, done_in, monitor, records, cpu, len(executed)))]


def _result(env, count, scale, executed_in, done_in, monitor, records, cpu, executed) -> dict:
    peak_active = max((sample[1] for sample in monitor.samples), default=0)
    _, _, terminal, finalized, delivered = monitor.final()
    lag = latency_summary(_transcript_lag_ms(env, records))
    sampled = len({call_id for call_id, _, _ in records})
    return {
        "what": f"{count} tasks executed through the API and conducted by one worker process against the simulated"
        f" provider at SIMULATOR_TIME_SCALE={scale} (a conversation lasts ~{48 / scale:.0f} s), webhooks"
        f" ({', '.join(EVENTS)}) to a local receiver, WebSocket clients on every {count // max(1, sampled)}th call",
        "calls": count,
        "executed": executed,
        "seconds_to_execute_all": round(executed_in, 1),
        "seconds_until_all_finalized_and_webhooks_delivered": round(done_in, 1),
        "terminal": terminal,
        "finalized": finalized,
        "webhooks_delivered": delivered,
        "peak_active_calls_one_worker": peak_active,
        "sampled_calls": sampled,
        "transcript_lag_ms": lag,
        "cpu_seconds": cpu,
        "targets": {"peak_active_calls_at_least": 500, "transcript_lag_p99_ms_below": 2000},
        "met": {
            "all_done": finalized == count and delivered >= 2 * count,
            "concurrency": peak_active >= 500,
            "lag_p99": lag.get("p99", 1e9) < 2000,
        },
    }
