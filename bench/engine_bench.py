"""How many calls ONE worker process (`python worker.py --processes 1`) conducts at once while every
call still advances on time: the knee of the curve.

Calls are put in flight faster than they end: at each level, that many pending tasks are executed
through the service layer (`services.calls.execute_task`, from 8 threads of this process), so the
worker, not the API, sets the pace. The simulated provider runs at SIMULATOR_TIME_SCALE=1 (real
time: a conversation lasts ~50 s), with webhooks (call_started and the terminal event) to a local
receiver and WebSocket clients (through gunicorn; a thread each in this process) on a sample of each
level's calls.

For each level the result's `curve` has: the most calls in progress at once, the live transcript
lag (when a turn ended on its simulated call, placed_at + (ring + turn end) / time scale → when a
socket got it), the worker's CPU and memory (RSS), and the time until every call was final,
finalized and its webhooks delivered. Levels rise until the lag p99 misses the goal. The knee is
the most calls in progress at once at a level whose lag p99 met the goal; memory per in-flight call
is the worker's RSS growth per additional call between the first level and the knee.
"""

import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
import websocket

from . import profile, seed
from .cpu import CpuMeter
from .env import BenchEnv, free_port, gunicorn, worker
from .fanout_bench import latency_summary
from .load import LoadWatch
from .receiver import Receiver
from .ws_clients import TERMINAL, _summary

CONVERSATION = "+14155550123"  # every call converses (~50 s): none ends early
EVENTS = ("call_started", "call_completed", "call_failed")
LAG_GOAL_MS = 1000
CONCURRENCY_GOAL = 1000
EXECUTE_THREADS = 8
FULL = {"levels": (250, 500, 1000, 1500, 2000), "scale": 1.0, "sockets_per_level": 50, "level_timeout": 600}
SMOKE = {"levels": (5, 10), "scale": 5.0, "sockets_per_level": 3, "level_timeout": 90}
SNAPSHOT_SQL = """
SELECT count(*) FILTER (WHERE status IN ('initiated', 'in_progress') AND provider_call_id IS NOT NULL),
       count(*) FILTER (WHERE status IN ('completed', 'failed')),
       count(*) FILTER (WHERE finalized_at IS NOT NULL),
       (SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered')
FROM calls
"""


def _rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Monitor(threading.Thread):
    """Samples every 0.2 s: calls placed and active, terminal, finalized, webhooks delivered, and
    the worker's RSS (MB)."""

    def __init__(self, env: BenchEnv, worker_pid: int):
        super().__init__(daemon=True)
        self.env = env
        self.worker_pid = worker_pid
        self.samples: list[tuple[float, int, int, int, int, float]] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with self.env.connect() as conn:
            conn.autocommit = True
            while not self.stopping.is_set():
                counts = conn.execute(SNAPSHOT_SQL).fetchone()
                self.samples.append((time.time(), *counts, _rss_mb(self.worker_pid)))
                self.stopping.wait(0.2)

    def latest(self) -> tuple[float, int, int, int, int, float]:
        return self.samples[-1] if self.samples else (time.time(), 0, 0, 0, 0, 0.0)

    def since(self, started: float) -> list[tuple[float, int, int, int, int, float]]:
        return [sample for sample in self.samples if sample[0] >= started]


class Sockets:
    """WebSocket clients (websocket-client), a thread each, that record when every message arrived:
    (call id, receive time, summary). Each ends with its call, or at the deadline."""

    def __init__(self, seconds: float):
        self.deadline = time.time() + seconds
        self.records: list[tuple[str, float, dict]] = []
        self.threads: list[threading.Thread] = []

    def add(self, call_id: str, url: str) -> None:
        thread = threading.Thread(target=self._watch, args=(call_id, url), daemon=True)
        thread.start()
        self.threads.append(thread)

    def _watch(self, call_id: str, url: str) -> None:
        try:
            ws = websocket.create_connection(url, timeout=max(1.0, self.deadline - time.time()))
        except (OSError, websocket.WebSocketException) as exc:
            self.records.append((call_id, time.time(), {"type": "client_error", "status": repr(exc)[:200]}))
            return
        try:
            while time.time() < self.deadline:
                ws.settimeout(max(0.1, self.deadline - time.time()))
                raw = ws.recv()
                received = time.time()
                message = _summary(json.loads(raw))
                self.records.append((call_id, received, message))
                if message["type"] in ("call_status_update", "connected") and message["status"] in TERMINAL:
                    return
        except (OSError, websocket.WebSocketException):
            return
        finally:
            ws.close()

    def results(self) -> list[tuple[str, float, dict]]:
        for thread in self.threads:
            thread.join(timeout=max(0.0, self.deadline - time.time()) + 10)
        return list(self.records)


def _put_in_flight(app, org: seed.SeededOrg, task_ids: list[str], each) -> list[str]:
    """Execute every task through the service layer, as the API would, from a few threads; `each`
    gets every call id as soon as its call exists."""
    from webapp.services import calls

    def execute(task_id: str) -> str:
        with app.app_context():
            call = calls.execute_task(org.org_id, task_id)
            if call is None:
                raise RuntimeError("the task was queued behind the organization's concurrent-call cap")
            return call.id

    call_ids = []
    with ThreadPoolExecutor(EXECUTE_THREADS) as pool:
        for call_id in pool.map(execute, task_ids):
            call_ids.append(call_id)
            each(call_id)
    return call_ids


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


def _level(env, app, org, level, shape, base, conductor, monitor, receiver, done_before) -> dict:
    """Put `level` calls in flight at once and follow them until all are finalized and delivered."""
    with env.connect() as conn:
        task_ids = seed.add_tasks(conn, org, [CONVERSATION] * level, webhook_url=receiver.url + "/hooks",
                                  webhook_events=EVENTS, status="pending")  # fmt: skip
    load = LoadWatch(env.database_url, env.redis_url).start()
    directory = shape["profile_dir"]
    profiler = profile.Profiler(conductor.pid, directory / f"engine-{level}.raw") if directory else None
    meter = CpuMeter(conductor.pid)
    meter.start()
    rss_before = _rss_mb(conductor.pid)
    clients = Sockets(seconds=shape["level_timeout"])
    every, executed = max(1, level // shape["sockets_per_level"]), [0]

    def watch_some(call_id: str) -> None:  # a socket on every `every`th call, opened as soon as it exists
        if executed[0] % every == 0:
            clients.add(call_id, f"{base.replace('http', 'ws')}/ws/calls/{call_id}?api_key={org.api_key}")
        executed[0] += 1

    started = time.time()
    _put_in_flight(app, org, task_ids, watch_some)
    in_flight_in = time.time() - started
    total, deadline = done_before + level, time.monotonic() + shape["level_timeout"]
    while time.monotonic() < deadline:
        _, _, _, finalized, delivered, _ = monitor.latest()
        if finalized >= total and delivered >= 2 * total:
            break
        time.sleep(0.2)
    done_in = time.time() - started
    cpu = meter.stop()
    profiled = profiler.stop() if profiler else None
    machine_load = load.stop()
    records = clients.results()
    samples = monitor.since(started)
    _, _, terminal, finalized, delivered, _ = monitor.latest()
    lag = latency_summary(_transcript_lag_ms(env, records))
    peak_active = max((sample[1] for sample in samples), default=0)
    return {
        "calls_put_in_flight": level,
        "seconds_to_put_in_flight": round(in_flight_in, 1),
        "peak_active_calls": peak_active,
        "transcript_lag_ms": lag,
        "sampled_calls": len({call_id for call_id, _, _ in records}),
        "socket_errors": sum(1 for _, _, message in records if message["type"] == "client_error"),
        "socket_messages": dict(Counter(message["type"] for _, _, message in records)),
        "worker_cpu_seconds": cpu["server"],
        "worker_cpu_ms_per_call": round(cpu["server"] * 1000 / level, 1),
        "worker_busy_share_of_one_core": round(cpu["server"] / max(done_in, 1e-9), 2),
        "worker_rss_mb_before": round(rss_before, 1),
        "worker_rss_mb_peak": round(max((sample[5] for sample in samples), default=rss_before), 1),
        "seconds_until_all_finalized_and_delivered": round(done_in, 1),
        "all_done": terminal - done_before >= level and finalized >= total and delivered >= 2 * total,
        "lag_p99_within_goal": lag.get("p99", 1e9) < LAG_GOAL_MS,
        "machine_load": machine_load,
        **({"profile": profiled} if profiled else {}),
    }


def _wait_for_worker(base: str, timeout: float = 120) -> None:
    """Until /healthz sees the worker's heartbeat (it has started and runs jobs)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the worker did not report healthy within {timeout} s")


def run(env: BenchEnv, *, smoke: bool, levels: tuple[int, ...] | None = None) -> list[tuple[str, dict]]:
    """`levels` replaces the mode's (e.g. (250,) to measure or profile one level)."""
    shape = {**(SMOKE if smoke else FULL), **({"levels": levels} if levels else {})}
    shape["profile_dir"] = profile.requested()  # read now: the app context below swaps the environment
    env.reset()
    receiver = Receiver(env, free_port())
    with env.connect() as conn:
        org = seed.create_org(conn, "Engine org")
        seed.add_agents(conn, org, 1)
        # No cap of the organization's own stands between the worker and the calls it could conduct.
        conn.execute("UPDATE organizations SET max_concurrent_calls = %s WHERE id = %s", (10**6, org.org_id))
        conn.commit()
    settings = {"SIMULATOR_TIME_SCALE": str(shape["scale"])}
    server, base = gunicorn(env, "wsgi:app", "gunicorn-engine", settings)
    conductor = worker(env, 1, settings)
    monitor = Monitor(env, conductor.pid)
    curve = []
    try:
        monitor.start()
        _wait_for_worker(base)
        idle_rss = _rss_mb(conductor.pid)
        done = 0
        with env.app_context() as app:  # this process's own app, for the service layer
            for level in shape["levels"]:
                point = _level(env, app, org, level, shape, base, conductor, monitor, receiver, done)
                curve.append(point)
                done += level
                if not (point["lag_p99_within_goal"] and point["all_done"]):
                    break
    finally:
        monitor.stopping.set()
        conductor.stop()
        server.stop()
        receiver.stop()
    monitor.join()
    return [("engine", _result(shape, curve, idle_rss))]


def _memory_per_call_kb(curve: list[dict], knee: dict | None, idle_rss: float) -> float | None:
    """RSS growth per additional call in flight, between the first level and the knee (one-off
    costs such as lazily imported modules cancel out); from idle when the knee is the first level."""
    if knee is None or not knee["peak_active_calls"]:
        return None
    first = curve[0]
    if knee is first or knee["peak_active_calls"] <= first["peak_active_calls"]:
        return round((knee["worker_rss_mb_peak"] - idle_rss) * 1024 / knee["peak_active_calls"], 1)
    grown = knee["worker_rss_mb_peak"] - first["worker_rss_mb_peak"]
    return round(grown * 1024 / (knee["peak_active_calls"] - first["peak_active_calls"]), 1)


def _result(shape: dict, curve: list[dict], idle_rss: float) -> dict:
    good = [point for point in curve if point["lag_p99_within_goal"] and point["all_done"]]
    knee = max(good, key=lambda point: point["peak_active_calls"], default=None)
    knee_calls = knee["peak_active_calls"] if knee else 0
    return {
        "what": "calls put in flight at once through the service layer (levels "
        f"{', '.join(str(point['calls_put_in_flight']) for point in curve)}), conducted by one worker process"
        f" against the simulated provider at SIMULATOR_TIME_SCALE={shape['scale']:g}, webhooks"
        f" ({', '.join(EVENTS)}) to a local receiver, WebSocket clients on ~{shape['sockets_per_level']} calls"
        " per level; levels stop rising once the transcript lag p99 misses the goal",
        "knee_concurrent_calls_one_worker": knee_calls,
        "knee_transcript_lag_ms": knee["transcript_lag_ms"] if knee else None,
        "worker_rss_mb_idle": round(idle_rss, 1),
        "memory_per_in_flight_call_kb": _memory_per_call_kb(curve, knee, idle_rss),
        "curve": curve,
        "targets": {"knee_concurrent_calls_at_least": CONCURRENCY_GOAL, "transcript_lag_p99_ms_below": LAG_GOAL_MS},
        "met": {
            "all_done": all(point["all_done"] for point in curve),
            "concurrency": knee_calls >= CONCURRENCY_GOAL,
        },
    }
