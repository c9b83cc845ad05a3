"""API overhead and list growth: GET /api/v1/calls under gunicorn, measured with wrk.

1. Overhead: the authenticated list at full size against a bare Flask app answering a payload of
   the same size under the same gunicorn command, in the same run.
2. Growth: the list and a filtered list (status=completed, agent_id=...) at the small size and
   at the full size; p50 may grow at most 1.5x.
"""

import time

import requests
import sqlalchemy as sa

from . import seed, wrk
from .cpu import CpuMeter
from .env import BenchEnv, gunicorn
from .load import LoadWatch

CALLS_PER_TASK = 5
OTHER_ORGS = 4
AGENTS = 20
CONNECTIONS = 16


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
    meter = CpuMeter(server_pid)
    load = LoadWatch(env.database_url, env.redis_url).start()
    meter.start()
    result = wrk.run(url, connections=connections, seconds=seconds, headers=headers)
    cpu = meter.stop()
    result["machine_load"] = load.stop()
    if result["errors"]["status"] or result["errors"]["timeout"]:
        raise RuntimeError(f"wrk saw errors on {url}: {result['errors']}")
    result["cpu_ms_per_request"] = {name: round(spent * 1000 / result["requests"], 3) for name, spent in cpu.items()}
    return result


def _query_plans(env: BenchEnv, org: seed.SeededOrg) -> dict:
    """EXPLAIN ANALYZE of exactly the statements the endpoint runs (captured from call_queries)."""
    with env.app_context() as app:
        from webapp.extensions import db
        from webapp.services import call_queries

        plans = {}
        for name, filters in (("list", {}), ("filtered", {"status": "completed", "agent_id": org.agent_ids[0]})):
            captured = []

            def capture(_conn, _cursor, statement, parameters, _context, _many, into=captured):
                into.append((statement, parameters))

            sa.event.listen(db.engine, "before_cursor_execute", capture)
            try:
                call_queries.list_calls(org.org_id, limit=50, offset=0, **filters)
            finally:
                sa.event.remove(db.engine, "before_cursor_execute", capture)
            db.session.rollback()
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
    server, base = gunicorn(env, "wsgi:app", "gunicorn-api")
    try:
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
        one_connection = _measure(env, base + list_path, org.api_key, seconds / 2, server.pid, connections=1)
        payload = requests.get(base + list_path, headers={"Authorization": f"Bearer {org.api_key}"}, timeout=10)
    finally:
        server.stop()
    payload_file = env.workdir / "bare_payload.json"
    payload_file.write_text(payload.text)
    bare_server, bare_base = gunicorn(
        env, "bench.bare_app:app", "gunicorn-bare", {"BENCH_BARE_PAYLOAD": str(payload_file)}
    )
    try:
        bare = _measure(env, bare_base + "/api/v1/calls", None, seconds, bare_server.pid)
    finally:
        bare_server.stop()
    return [
        ("api_overhead", _overhead_result(growth[large]["list"], bare, one_connection, large, len(payload.content))),
        ("list_growth", _growth_result(growth, small, large, _query_plans(env, org))),
    ]


def _overhead_result(real: dict, bare: dict, one_connection: dict, calls: int, payload_bytes: int) -> dict:
    ratio = round(real["requests_per_second"] / bare["requests_per_second"], 3)
    return {
        "what": f"GET /api/v1/calls?limit=50 (API key, {calls} calls in the org, as many in {OTHER_ORGS} other orgs)"
        f" vs a bare Flask endpoint returning a payload of the same size, both under gunicorn, wrk -c{CONNECTIONS}",
        "payload_bytes": payload_bytes,
        "real": real,
        "bare": bare,
        "real_one_connection": one_connection,
        "ratio_requests_per_second": ratio,
        "targets": {"ratio_at_least": 0.5, "p99_ms_below": 25},
        "met": {"ratio": ratio >= 0.5, "p99": real["latency_ms"]["p99"] < 25},
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
