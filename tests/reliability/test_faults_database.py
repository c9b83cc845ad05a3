"""Database connections dropped under a running deployment (PostgreSQL restarts, failovers, idle
connection reapers): pool_pre_ping replaces dead connections, so no request or job fails."""

import psycopg
import pytest

from tests.reliability.stack import api_session
from tests.support import wait_until

OTHER_BACKENDS = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"


def test_requests_and_jobs_survive_terminated_database_connections(backend, make_stack):
    if backend["kind"] != "services":
        pytest.skip("SQLite has no server connections to drop; this runs on the PostgreSQL backend")
    stack = make_stack()
    api = api_session(stack.serve(processes=2), stack.create_tenant())
    stack.worker()
    agent = api("POST", "/agents", json={"name": "Agent", "system_prompt": "You confirm deliveries."}).json()["data"]
    for _ in range(10):  # every gunicorn process and thread now holds pooled connections
        assert api("GET", "/agents").status_code == 200

    with psycopg.connect(stack.database_url, autocommit=True) as admin:
        count = f"SELECT count(*) {OTHER_BACKENDS}"
        wait_until(lambda: admin.execute(count).fetchone()[0] >= 2, message="web and worker to hold connections")
        terminated = admin.execute(f"SELECT count(pg_terminate_backend(pid)) {OTHER_BACKENDS}").fetchone()[0]
    assert terminated >= 2

    for _ in range(10):
        assert api("GET", "/agents").status_code == 200
        assert api("GET", f"/agents/{agent['id']}").status_code == 200
    task = api("POST", "/tasks", json={"agent_id": agent["id"], "name": "Call", "to_number": "+14155550123"})
    assert task.status_code == 201, task.text
    executed = api("POST", f"/tasks/{task.json()['data']['id']}/execute")
    assert executed.status_code == 200, executed.text
    call_id = executed.json()["data"]["call_id"]
    call = wait_until(lambda: (c := api("GET", f"/calls/{call_id}").json()["data"])["report"] and c)
    assert call["status"] == "completed", call
