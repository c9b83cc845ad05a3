"""Each benchmark in smoke mode (tiny sizes, real processes): the scripts still run end to end and
report sane figures. The measured numbers come from `python -m bench.run_all` (bench/README.md)."""

import json
import os
import shutil
import subprocess
import sys
import uuid

import psycopg
import pytest

from bench.load import NOT_JUDGED
from tests.support import PG_ADMIN_URL, ROOT, scaled

pytestmark = pytest.mark.slow  # gunicorn and worker processes, as in production
BENCH_REDIS_URL = os.environ.get("TEST_BENCH_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
def run_smoke(backend, tmp_path):
    """`python -m bench.run_all --smoke --only <name>` on a database of its own; returns its results."""
    if backend["kind"] != "services":
        pytest.skip("the benchmarks measure the production setup: PostgreSQL and a Redis server (services backend)")
    database_url = f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/va_bench_smoke_{uuid.uuid4().hex[:8]}"

    def run(name: str) -> dict[str, dict]:
        argv = [sys.executable, "-m", "bench.run_all", "--smoke", "--only", name, "--results-dir", str(tmp_path),
                "--database-url", database_url, "--redis-url", BENCH_REDIS_URL]  # fmt: skip
        completed = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=scaled(300))
        assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
        return {path.stem: json.loads(path.read_text()) for path in tmp_path.glob("*.json")}

    yield run
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
def test_api_overhead_and_list_growth(run_smoke):
    results = run_smoke("api")
    overhead, growth = results["api_overhead"], results["list_growth"]
    for result in (overhead, growth):
        assert_judged_honestly(result)
    endpoints = overhead["endpoints"]
    assert set(endpoints) == {"bare", "floor", "list", "list_status", "get"}
    for name, levels in endpoints.items():
        for level in ("c16", "c1"):
            figures = levels[level]
            assert len(figures["runs"]) == overhead["repetitions"] == 3, (name, level)
            assert all(run["machine_load"]["seconds"] > 0 for run in figures["runs"]), "each run's load is stated"
            latency = figures["latency_ms"]
            assert figures["requests_per_second"] > 0 and latency["p99"] >= latency["p50"] > 0
            cpu = figures["cpu_ms_per_request"]
            assert set(cpu) >= {"server", "postgres", "postgres_ended_backends", "redis-server", "all"}
            assert cpu["all"] >= cpu["server"] > 0, (name, level, cpu)
    assert overhead["payload_bytes"] > 10_000, "50 calls fill the page"
    for name in ("bare", "floor"):
        assert endpoints[name]["c16"]["bytes_per_response"] == pytest.approx(
            endpoints["list"]["c16"]["bytes_per_response"], rel=0.05
        )
    assert set(overhead["met"]) == {"list_requests_per_second_vs_floor", "list_p99_one_connection",
                                    "list_p99_16_connections_vs_floor", "list_cpu_per_request_vs_floor"}  # fmt: skip
    assert set(growth["p50_growth"]) == {"list", "filtered"}
    plans = growth["query_plans_at_large_size"]
    assert all("Index" in plan for name in ("list", "filtered") for plan in plans[name]), plans


def test_engine(run_smoke):
    engine = run_smoke("engine")["engine"]
    assert_judged_honestly(engine)
    first = engine["curve"][0]
    assert first["all_done"], "every call final, finalized, call_started and its end delivered"
    assert first["peak_active_calls"] > 1, "the level's calls were in flight together"
    assert first["transcript_lag_ms"]["samples"] > 0 and first["socket_errors"] == 0
    split = first["transcript_lag_split_ms"]
    assert split["to_worker"]["samples"] == split["to_socket"]["samples"] == first["transcript_lag_ms"]["samples"]
    assert engine["warm_up"]["all_done"], "the unmeasured warm-up level ran before the curve"
    assert first["worker_rss_mb_peak"] >= first["worker_rss_mb_before"] > 0
    assert all("machine_load" in point for point in engine["curve"])
    assert engine["knee_concurrent_calls_one_worker"] in [0] + [point["peak_active_calls"] for point in engine["curve"]]


def assert_judged_honestly(result: dict) -> None:
    """The machine's load is stated; a starved run reports no "met", only that it was starved."""
    load = result["machine_load"]
    assert len(load["load_average_before"]) == len(load["load_average_after"]) == 3
    assert load["other_share_of_machine"] >= 0 and load["cpu_seconds_machine_busy"] >= 0
    if "starved" in result:
        assert all(value == NOT_JUDGED for value in result["met"].values()), result["met"]
    else:
        assert all(isinstance(value, bool) for value in result["met"].values()), result["met"]


def test_live_fanout(run_smoke):
    fanout = run_smoke("fanout")["live_fanout"]
    assert_judged_honestly(fanout)
    assert fanout["client_errors"] == []
    assert fanout["messages_received"] == fanout["messages_expected"] > 0
    assert fanout["latency_ms"]["p50"] > 0


def test_webhook_throughput(run_smoke):
    webhooks = run_smoke("webhooks")["webhooks"]
    assert_judged_honestly(webhooks)
    assert webhooks["delivered_in_database"] == webhooks["unique_received"] == webhooks["deliveries"]
    assert webhooks["deliveries_per_second"] > 0


def test_bridged_calls(run_smoke):
    bridge = run_smoke("bridge")["bridge"]["main"]
    assert bridge["errors"] == [] and bridge["conversations_opened"] == bridge["calls"] == 5
    for direction in ("twilio_to_agent", "agent_to_twilio"):
        assert bridge[direction]["lost"] == bridge[direction]["reordered"] == 0, bridge[direction]
        assert bridge[direction]["frames"] > 0
    assert 0 < bridge["twilio_to_agent"]["frames"] <= bridge["sent_to_agent"]  # a call may end before its agent answers
    assert bridge["pongs_missing"] == 0
    assert bridge["media_cpu_seconds"] > 0 and bridge["cpu_us_per_frame_relayed"] > 0  # the media process's own


def test_campaign_pacing(run_smoke):
    campaign = run_smoke("campaign")["campaign"]
    assert_judged_honestly(campaign)
    assert campaign["calls"] > 0 and campaign["peak_concurrency"] <= 6  # the smoke size's cap
    assert campaign["dispatch_to_placement_ms"]["p50"] >= 0
