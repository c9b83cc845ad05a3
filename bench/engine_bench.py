"""How many calls ONE worker process (`python worker.py --processes 1`) conducts at once while every
call still advances on time: the knee of the curve.

Calls are put in flight faster than they end: at each level, that many tasks are queued and dialled
through the service layer as the dispatcher dials them (`services.dispatch.dispatch_org`, one
transaction), so every call exists within seconds and the worker's placing, not the API, sets the
pace. The simulated provider runs at SIMULATOR_TIME_SCALE=1 (real time: a conversation lasts ~50 s),
with webhooks (call_started and the terminal event) to a local receiver and WebSocket clients
(through gunicorn; a thread each in this process) on a sample of each level's calls. An unmeasured
warm-up level comes first.

For each level the result's `curve` has: the most calls in progress at once, the live transcript
lag (when a turn ended on its simulated call, placed_at + (ring + turn end) / time scale → when a
socket got it), the worker's CPU and memory (RSS), and the time until every call was final,
finalized and its webhooks delivered. Levels rise until the lag p99 misses LAG_GOAL_MS. The knee is
the most calls in progress at once at a level whose lag p99 met it; memory per in-flight call is
the worker's RSS growth per additional call between the first level and the knee. The turn-lag
goal (TURN_LAG_GOAL_MS) is judged at every level up to CONCURRENCY_GOAL calls.
"""

import json
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import NamedTuple

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
LAG_GOAL_MS = 1000  # the knee: the most calls in progress at once while lag p99 stays under this
CONCURRENCY_GOAL = 1000
TURN_LAG_GOAL_MS = 250  # turn -> socket lag p99 at every level up to CONCURRENCY_GOAL calls
FULL = {"levels": (250, 500, 1000, 1500, 2000), "warm_up": 20, "scale": 1.0, "sockets_per_level": 50,
        "level_timeout": 600}  # fmt: skip
SMOKE = {"levels": (5, 10), "warm_up": 2, "scale": 5.0, "sockets_per_level": 3, "level_timeout": 90}
SNAPSHOT_SQL = """
SELECT count(*) FILTER (WHERE provider_call_id IS NOT NULL),
       count(*) FILTER (WHERE status IN ('initiated', 'in_progress') AND provider_call_id IS NOT NULL),
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


class Sample(NamedTuple):
    at: float
    placed: int  # calls the worker has placed with the provider, ever
    active: int  # placed and in progress now
    terminal: int
    finalized: int
    delivered: int  # webhook deliveries
    worker_rss_mb: float


class Monitor(threading.Thread):
    """Samples the calls and the worker's memory every 0.2 s."""

    def __init__(self, env: BenchEnv, worker_pid: int):
        super().__init__(daemon=True)
        self.env = env
        self.worker_pid = worker_pid
        self.samples: list[Sample] = []
        self.stopping = threading.Event()

    def run(self) -> None:
        with self.env.connect() as conn:
            conn.autocommit = True
            while not self.stopping.is_set():
                counts = conn.execute(SNAPSHOT_SQL).fetchone()
                self.samples.append(Sample(time.time(), *counts, _rss_mb(self.worker_pid)))
                self.stopping.wait(0.2)

    def latest(self) -> Sample:
        return self.samples[-1] if self.samples else Sample(time.time(), 0, 0, 0, 0, 0, 0.0)

    def since(self, started: float) -> list[Sample]:
        return [sample for sample in self.samples if sample.at >= started]


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


def _put_in_flight(app, org: seed.SeededOrg, task_ids: list[str]) -> list[str]:
    """Queue the tasks and dial them through the service layer as the dispatcher does
    (`dispatch.dispatch_org`: one transaction under the organization's lock, then a start_call job
    per call), so every call exists within seconds and the worker's placing sets the pace; returns
    the new calls' ids."""
    import sqlalchemy as sa

    from webapp.extensions import db
    from webapp.models import Task, utcnow
    from webapp.services import dispatch

    with app.app_context():
        now = utcnow()
        db.session.execute(sa.update(Task).where(Task.id.in_(task_ids)).values(dispatch_after=now))
        call_ids = dispatch.dispatch_org(org.org_id, now)  # commits the queueing first
    if len(call_ids) != len(task_ids):
        raise RuntimeError(f"{len(call_ids)} of {len(task_ids)} tasks were dialled")
    return call_ids


def _transcript_lags_ms(env: BenchEnv, records: list) -> dict[str, list[float]]:
    """Per turn, first seen on a socket: `turn` = socket receive time minus the moment the turn ended
    on its simulated call; split at the message's timestamp (taken when the worker staged the turn)
    into `to_worker` (turn end -> staged) and `to_socket` (staged -> received: commit, Redis,
    gunicorn)."""
    first_seen: dict[tuple, tuple[float, float]] = {}
    for call_id, received, message in records:
        if not message.get("new_turns"):
            continue
        stamped = datetime.fromisoformat(message["stamped_at"].replace("Z", "+00:00")).timestamp()
        for role, start, end in message["new_turns"]:
            first_seen.setdefault((call_id, role, start, end), (stamped, received))
    call_ids = list({key[0] for key in first_seen})
    with env.connect() as conn:
        rows = conn.execute("SELECT id, provider_data FROM calls WHERE id = ANY(%s)", (call_ids,)).fetchall()
    placed = {call_id: data for call_id, data in rows}
    lags: dict[str, list[float]] = {"turn": [], "to_worker": [], "to_socket": []}
    for (call_id, _, _, end), (stamped, received) in first_seen.items():
        data = placed[call_id]
        ended_at = data["placed_at"] + (data["ring_seconds"] + end) / data["time_scale"]
        lags["turn"].append((received - ended_at) * 1000)
        lags["to_worker"].append((stamped - ended_at) * 1000)
        lags["to_socket"].append((received - stamped) * 1000)
    return lags


def _all_done(latest: Sample, done_before: int, level: int) -> bool:
    """The level's calls are final and finalized, and each one's two webhooks were delivered."""
    total = done_before + level
    return latest.terminal >= total and latest.finalized >= total and latest.delivered >= 2 * total


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
    started = time.time()
    call_ids = _put_in_flight(app, org, task_ids)
    in_flight_in = time.time() - started
    for call_id in call_ids[:: max(1, level // shape["sockets_per_level"])]:  # before the worker places them
        clients.add(call_id, f"{base.replace('http', 'ws')}/ws/calls/{call_id}?api_key={org.api_key}")
    deadline = time.monotonic() + shape["level_timeout"]
    while time.monotonic() < deadline and not _all_done(monitor.latest(), done_before, level):
        time.sleep(0.2)
    done_in = time.time() - started
    cpu = meter.stop()
    profiled = profiler.stop() if profiler else None
    machine_load = load.stop()
    records = clients.results()
    samples = monitor.since(started)
    latest = monitor.latest()
    with env.connect() as conn:
        failed = conn.execute("SELECT count(*) FROM calls WHERE status = 'failed' AND id = ANY(%s)",
                              (call_ids,)).fetchone()[0]  # fmt: skip
    lags = _transcript_lags_ms(env, records)
    lag = latency_summary(lags["turn"])
    peak_active = max((sample.active for sample in samples), default=0)
    all_placed = next((sample.at for sample in samples if sample.placed >= done_before + level), None)
    return {
        "calls_put_in_flight": level,
        "seconds_to_dispatch": round(in_flight_in, 1),
        "seconds_until_all_placed": round(all_placed - started, 1) if all_placed else None,
        "peak_active_calls": peak_active,
        "failed_calls": failed,  # every conversation completes unless something went wrong
        "transcript_lag_ms": lag,
        "transcript_lag_split_ms": {part: latency_summary(lags[part]) for part in ("to_worker", "to_socket")},
        "sampled_calls": len({call_id for call_id, _, _ in records}),
        "socket_errors": sum(1 for _, _, message in records if message["type"] == "client_error"),
        "socket_messages": dict(Counter(message["type"] for _, _, message in records)),
        "worker_cpu_seconds": cpu["server"],
        "worker_cpu_ms_per_call": round(cpu["server"] * 1000 / level, 1),
        "worker_busy_share_of_one_core": round(cpu["server"] / max(done_in, 1e-9), 2),
        "worker_rss_mb_before": round(rss_before, 1),
        "worker_rss_mb_peak": round(max((sample.worker_rss_mb for sample in samples), default=rss_before), 1),
        "seconds_until_all_finalized_and_delivered": round(done_in, 1),
        "all_done": _all_done(latest, done_before, level),
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
        with env.app_context() as app:  # this process's own app, for the service layer
            # Unmeasured: the worker's first calls pay one-off costs (lazy imports, first clips).
            warm_up = _level(env, app, org, shape["warm_up"], shape, base, conductor, monitor, receiver, 0)
            done = shape["warm_up"]
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
    return [("engine", _result(shape, curve, idle_rss, warm_up))]


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


def _turn_lag_met(curve: list[dict]) -> bool:
    """Lag p99 under TURN_LAG_GOAL_MS at every level up to the capacity goal, one of them at it."""
    judged = [point for point in curve if point["calls_put_in_flight"] <= CONCURRENCY_GOAL]
    return any(point["calls_put_in_flight"] == CONCURRENCY_GOAL for point in judged) and all(
        point["transcript_lag_ms"].get("p99", 1e9) < TURN_LAG_GOAL_MS for point in judged
    )


def _result(shape: dict, curve: list[dict], idle_rss: float, warm_up: dict) -> dict:
    good = [point for point in curve if point["lag_p99_within_goal"] and point["all_done"]]
    knee = max(good, key=lambda point: point["peak_active_calls"], default=None)
    knee_calls = knee["peak_active_calls"] if knee else 0
    warm_up = {key: warm_up[key] for key in ("calls_put_in_flight", "seconds_until_all_finalized_and_delivered",
                                              "transcript_lag_ms", "all_done")}  # fmt: skip
    return {
        "what": "calls put in flight at once through the service layer (levels "
        f"{', '.join(str(point['calls_put_in_flight']) for point in curve)}), conducted by one worker process"
        f" against the simulated provider at SIMULATOR_TIME_SCALE={shape['scale']:g}, webhooks"
        f" ({', '.join(EVENTS)}) to a local receiver, WebSocket clients on ~{shape['sockets_per_level']} calls"
        f" per level (after an unmeasured warm-up of {warm_up['calls_put_in_flight']} calls); levels stop rising"
        " once the transcript lag p99 misses the goal",
        "knee_concurrent_calls_one_worker": knee_calls,
        "knee_transcript_lag_ms": knee["transcript_lag_ms"] if knee else None,
        "worker_rss_mb_idle": round(idle_rss, 1),
        "memory_per_in_flight_call_kb": _memory_per_call_kb(curve, knee, idle_rss),
        "curve": curve,
        "warm_up": warm_up,
        "targets": {
            "knee_concurrent_calls_at_least": CONCURRENCY_GOAL,
            "transcript_lag_p99_ms_below": LAG_GOAL_MS,
            f"turn_lag_p99_ms_below_at_every_level_up_to_{CONCURRENCY_GOAL}_calls": TURN_LAG_GOAL_MS,
        },
        "met": {
            "all_done": all(point["all_done"] for point in curve),
            "concurrency": knee_calls >= CONCURRENCY_GOAL,
            "turn_lag": _turn_lag_met(curve),
        },
    }
