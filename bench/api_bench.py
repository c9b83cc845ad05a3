"""API hot path and list growth: the API under gunicorn, measured with wrk.

1. Hot path (api_overhead.json): on an organization with the full number of calls, alternating
   repetitions of bare Flask (bench/bare_app.py), the floor endpoint (bench/floor_app.py: one
   trivial PostgreSQL query, one Redis INCR, the same payload) and the API's list, list filtered by
   status and one call; each at 16 connections and at 1, with the CPU per request of each process
   group (web, PostgreSQL, Redis). Medians of the repetitions are judged against issue #15's goals.
2. Growth (list_growth.json): the list and a filtered list (status=completed, agent_id=...) at the
   small size and at the full size; p50 may grow at most 1.5x.
"""

import statistics
import time
from unittest import mock

import requests

from . import seed, wrk
from .cpu import ScopedCpuMeter
from .env import BenchEnv, gunicorn
from .load import LoadWatch

CALLS_PER_TASK = 5
OTHER_ORGS = 4
AGENTS = 20
CONNECTIONS = 16
REPETITIONS = 3
TARGETS = {  # issue #15
    "list_requests_per_second_vs_floor_at_least": 0.5,
    "list_p99_one_connection_ms_below": 10,
    "list_p99_16_connections_vs_floor_at_most": 2,
    "list_cpu_per_request_vs_floor_at_most": 3,
}


def _grow(env: BenchEnv, org: seed.SeededOrg, others: list[seed.SeededOrg], calls: int, have: int) -> None:
    """Bring the org to `calls` calls, and the other orgs together to as many."""
    added = calls - have
    with env.connect() as conn:
        for index, owner in enumerate([org, *others]):
            share = added if owner is org else added // len(others)
            seed.add_tasks(conn, owner, ["+14155550123"] * max(1, share // CALLS_PER_TASK))
            seed.add_finished_calls(conn, owner, share, seed=calls + index)
        seed.vacuum_analyze(conn)


def _measure(env: BenchEnv, url: str, api_key: str | None, seconds: float, server_pid: int,
             connections: int = CONNECTIONS) -> dict:  # fmt: skip
    """wrk figures, the CPU each process group spent per request (server, PostgreSQL, Redis, wrk),
    and the machine's load meanwhile (a starved baseline or run is not judged)."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    response = requests.get(url, headers=headers, timeout=10)
    response.raise_for_status()
    if seconds >= 5:
        wrk.run(url, connections=connections, seconds=2, headers=headers)  # warm-up, not recorded
    meter = ScopedCpuMeter(server_pid, env.database_url, env.redis_url)
    load = LoadWatch(env.database_url, env.redis_url).start()
    meter.start()
    result = wrk.run(url, connections=connections, seconds=seconds, headers=headers)
    cpu = meter.stop()
    result["machine_load"] = load.stop()
    if result["errors"]["status"] or result["errors"]["timeout"]:
        raise RuntimeError(f"wrk saw errors on {url}: {result['errors']}")
    cpu["all"] = sum(cpu[group] for group in ("server", "postgres", "postgres_ended_backends", "redis-server"))
    requests_done = max(1, result["requests"])  # a starved 1 s run may complete none
    result["cpu_ms_per_request"] = {name: round(spent * 1000 / requests_done, 3) for name, spent in cpu.items()}
    return result


def _query_plans(env: BenchEnv, org: seed.SeededOrg) -> dict:
    """EXPLAIN ANALYZE of exactly the statements the endpoint runs (captured from the API's read path,
    which runs them on the driver's cursor: database._DirectRead)."""
    with env.app_context() as app:
        from webapp import database
        from webapp.api import queries
        from webapp.extensions import db

        plans = {}
        cases = (("list", {}), ("list_status", {"status": "completed"}),
                 ("filtered", {"status": "completed", "agent_id": org.agent_ids[0]}))  # fmt: skip
        run_rows = database._DirectRead.rows
        for name, filters in cases:
            captured = []

            def capture(direct, dbapi_connection, params, into=captured):
                into.append((direct.compiled.string, direct.compiled.construct_params(params)))
                return run_rows(direct, dbapi_connection, params)

            with mock.patch.object(database._DirectRead, "rows", capture):
                queries.list_calls(org.org_id, limit=50, offset=0, **filters)
            with db.engine.connect() as conn:
                plans[name] = [
                    "\n".join(row[0] for row in conn.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params))
                    for sql, params in captured
                    if sql.lstrip().upper().startswith("SELECT") and "calls" in sql
                ]
        assert app
    return plans


def run(env: BenchEnv, *, smoke: bool) -> list[tuple[str, dict]]:
    small, large = (200, 2_000) if smoke else (1_000, 100_000)
    seconds = 1 if smoke else 10
    env.reset()
    with env.connect() as conn:
        org = seed.create_org(conn, "Bench org")
        seed.add_agents(conn, org, AGENTS)
        others = [seed.create_org(conn, f"Other org {n}") for n in range(OTHER_ORGS)]
        for other in others:
            seed.add_agents(conn, other, 5)
    list_path = "/api/v1/calls?limit=50"
    filtered_path = f"/api/v1/calls?limit=50&status=completed&agent_id={org.agent_ids[0]}"

    growth = {}
    servers = []
    try:
        server, base = gunicorn(env, "wsgi:app", "gunicorn-api")
        servers.append(server)
        have = 0
        for size in (small, large):
            started = time.monotonic()
            _grow(env, org, others, size, have)
            have = size
            seeded_in = round(time.monotonic() - started, 1)
            growth[size] = {
                "seeded_in_seconds": seeded_in,
                "list": _measure(env, base + list_path, org.api_key, seconds, server.pid),
                "filtered": _measure(env, base + filtered_path, org.api_key, seconds, server.pid),
            }
        payload = requests.get(base + list_path, headers={"Authorization": f"Bearer {org.api_key}"}, timeout=10)
        payload.raise_for_status()
        payload_file = env.workdir / "bare_payload.json"
        payload_file.write_text(payload.text)
        baselines = {"BENCH_BARE_PAYLOAD": str(payload_file)}
        bare, bare_base = gunicorn(env, "bench.bare_app:app", "gunicorn-bare", baselines)
        servers.append(bare)
        floor, floor_base = gunicorn(env, "bench.floor_app:app", "gunicorn-floor", baselines)
        servers.append(floor)
        call_id = next(call["id"] for call in payload.json()["data"] if call["status"] == "completed")
        targets = {
            "bare": (bare, bare_base + "/api/v1/calls", None),
            "floor": (floor, floor_base + "/api/v1/calls", None),
            "list": (server, base + list_path, org.api_key),
            "list_status": (server, base + "/api/v1/calls?limit=50&status=completed", org.api_key),
            "get": (server, base + f"/api/v1/calls/{call_id}", org.api_key),
        }
        hot_path = _alternate(env, targets, seconds)
    finally:
        for process in servers:
            process.stop()
    return [
        ("api_overhead", _hot_path_result(hot_path, targets, large, len(payload.content))),
        ("list_growth", _growth_result(growth, small, large, _query_plans(env, org))),
    ]


def _alternate(env: BenchEnv, targets: dict, seconds: float) -> dict:
    """REPETITIONS rounds over every target at 16 connections then at 1; the order reverses each round,
    so a drift in the machine's speed weighs on every target alike."""
    runs = {name: {"c16": [], "c1": []} for name in targets}
    names = list(targets)
    for repetition in range(REPETITIONS):
        for name in names if repetition % 2 == 0 else reversed(names):
            process, url, api_key = targets[name]
            runs[name]["c16"].append(_measure(env, url, api_key, seconds, process.pid))
            runs[name]["c1"].append(_measure(env, url, api_key, seconds / 2, process.pid, connections=1))
    return {name: {level: _medians(runs_at) for level, runs_at in levels.items()} for name, levels in runs.items()}


def _medians(runs: list[dict]) -> dict:
    def median(values):
        return round(statistics.median(values), 3)

    return {
        "requests_per_second": median([run["requests_per_second"] for run in runs]),
        "latency_ms": {key: median([run["latency_ms"][key] for run in runs]) for key in ("p50", "p90", "p99", "mean")},
        "cpu_ms_per_request": {
            group: median([run["cpu_ms_per_request"][group] for run in runs]) for group in runs[0]["cpu_ms_per_request"]
        },
        "bytes_per_response": runs[0]["bytes_per_response"],
        "runs": runs,
    }


def _ratio(value: float, base: float) -> float | None:
    return round(value / base, 3) if base else None


def _hot_path_result(figures: dict, targets: dict, calls: int, payload_bytes: int) -> dict:
    floor = figures["floor"]
    ratios = {
        name: {
            "requests_per_second_vs_floor": _ratio(figures[name]["c16"]["requests_per_second"],
                                                   floor["c16"]["requests_per_second"]),
            "requests_per_second_vs_bare": _ratio(figures[name]["c16"]["requests_per_second"],
                                                  figures["bare"]["c16"]["requests_per_second"]),
            "p99_16_connections_vs_floor": _ratio(figures[name]["c16"]["latency_ms"]["p99"],
                                                  floor["c16"]["latency_ms"]["p99"]),
            "cpu_per_request_vs_floor": _ratio(figures[name]["c16"]["cpu_ms_per_request"]["all"],
                                               floor["c16"]["cpu_ms_per_request"]["all"]),
        }
        for name in ("floor", "list", "list_status", "get")
    }  # fmt: skip
    listed = ratios["list"]
    return {
        "what": f"GET /api/v1/calls?limit=50 (API key, {calls} calls in the org, as many in {OTHER_ORGS} other orgs),"
        " the same list filtered by status, and one call, against the floor endpoint (one trivial PostgreSQL query,"
        " one Redis INCR, the same payload) and bare Flask (the same payload), all under the same gunicorn command;"
        f" {REPETITIONS} alternating repetitions, medians; wrk at {CONNECTIONS} connections and at 1",
        "paths": {name: url.split("/", 3)[3] for name, (_, url, _) in targets.items()},
        "payload_bytes": payload_bytes,
        "repetitions": REPETITIONS,
        "cpu_groups": "all = server + postgres (the bench database's backends) + postgres_ended_backends (what the"
        " postmaster reaped meanwhile, any database) + redis-server (the bench's Redis server)",
        "endpoints": figures,
        "ratios": ratios,
        "targets": TARGETS,
        "met": {
            "list_requests_per_second_vs_floor": listed["requests_per_second_vs_floor"]
            >= TARGETS["list_requests_per_second_vs_floor_at_least"],
            "list_p99_one_connection": figures["list"]["c1"]["latency_ms"]["p99"]
            < TARGETS["list_p99_one_connection_ms_below"],
            "list_p99_16_connections_vs_floor": listed["p99_16_connections_vs_floor"]
            <= TARGETS["list_p99_16_connections_vs_floor_at_most"],
            "list_cpu_per_request_vs_floor": listed["cpu_per_request_vs_floor"]
            <= TARGETS["list_cpu_per_request_vs_floor_at_most"],
        },
    }


def _growth_result(growth: dict, small: int, large: int, plans: dict) -> dict:
    ratios = {
        name: round(growth[large][name]["latency_ms"]["p50"] / growth[small][name]["latency_ms"]["p50"], 2)
        for name in ("list", "filtered")
    }
    return {
        "what": f"p50 of the list and the filtered list (status=completed, agent_id) at {small} and {large} calls,"
        f" wrk -c{CONNECTIONS}",
        "sizes": {str(size): figures for size, figures in growth.items()},
        "p50_growth": ratios,
        "targets": {"p50_growth_at_most": 1.5},
        "met": {name: ratio <= 1.5 for name, ratio in ratios.items()},
        "query_plans_at_large_size": plans,
    }
