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

from tests.support import PG_ADMIN_URL, ROOT

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
        completed = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=240)
        assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
        return {path.stem: json.loads(path.read_text()) for path in tmp_path.glob("*.json")}

    yield run
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed (apt-get install wrk)")
def test_api_overhead_and_list_growth(run_smoke):
    results = run_smoke("api")
    overhead, growth = results["api_overhead"], results["list_growth"]
    for figures in (overhead["real"], overhead["bare"], overhead["real_one_connection"]):
        assert figures["requests"] > 0 and figures["latency_ms"]["p50"] > 0
    assert overhead["payload_bytes"] > 10_000, "50 calls fill the page"
    assert overhead["bare"]["bytes_per_response"] == pytest.approx(overhead["real"]["bytes_per_response"], rel=0.05)
    assert set(growth["p50_growth"]) == {"list", "filtered"}
    plans = growth["query_plans_at_large_size"]
    assert all("Index" in plan for name in ("list", "filtered") for plan in plans[name]), plans


def test_engine(run_smoke):
    engine = run_smoke("engine")["engine"]
    assert engine["finalized"] == engine["terminal"] == engine["calls"]
    assert engine["webhooks_delivered"] == 2 * engine["calls"], "call_started plus completed or failed, per call"
    assert engine["peak_active_calls_one_worker"] > 1
    assert engine["transcript_lag_ms"]["samples"] > 0


def test_live_fanout(run_smoke):
    fanout = run_smoke("fanout")["live_fanout"]
    assert fanout["client_errors"] == []
    assert fanout["messages_received"] == fanout["messages_expected"] > 0
    assert fanout["latency_ms"]["p50"] > 0


def test_webhook_throughput(run_smoke):
    webhooks = run_smoke("webhooks")["webhooks"]
    assert webhooks["delivered_in_database"] == webhooks["unique_received"] == webhooks["deliveries"]
    assert webhooks["deliveries_per_second"] > 0
