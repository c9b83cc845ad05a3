"""Database connections dropped under a running deployment (PostgreSQL restarts, failovers, idle
connection reapers): no request or job fails, although connections are not pinged before each use.
A pooled connection the server closed is recognised at checkout (its socket has the server's
goodbye to read), and a read whose connection dies under it runs again on a fresh one."""

import psycopg
import pytest

from tests.reliability.stack import api_session
from tests.support import wait_until

OTHER_BACKENDS = "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
NO_IDLE_PINGS = {"DATABASE_PING_IDLE_SECONDS": 3600}  # only the ping-free checks can save a request


def _terminate_every_connection(database_url: str) -> int:
    """pg_terminate_backend on every other connection to the database; returns once they are gone."""
    with psycopg.connect(database_url, autocommit=True) as admin:
        wait_until(
            lambda: admin.execute(f"SELECT count(*) {OTHER_BACKENDS}").fetchone()[0] >= 2,
            message="web and worker to hold connections",
        )
        pids = [row[0] for row in admin.execute(f"SELECT pid {OTHER_BACKENDS}").fetchall()]
        admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [pids])
        wait_until(
            lambda: (
                not admin.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", [pids]).fetchone()[0]
            ),
            message="the terminated backends to exit",
        )
    return len(pids)


def _skip_without_postgresql(backend) -> None:
    if backend["kind"] != "services":
        pytest.skip("SQLite has no server connections to drop; this runs on the PostgreSQL backend")


def test_requests_and_jobs_survive_terminated_database_connections(backend, make_stack):
    _skip_without_postgresql(backend)
    stack = make_stack(**NO_IDLE_PINGS)
    api = api_session(stack.serve(processes=2), stack.create_tenant())
    stack.worker()
    agent = api("POST", "/agents", json={"name": "Agent", "system_prompt": "You confirm deliveries."}).json()["data"]
    for _ in range(10):  # every gunicorn process and thread now holds pooled connections
        assert api("GET", "/agents").status_code == 200

    assert _terminate_every_connection(stack.database_url) >= 2

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


def test_a_write_right_after_the_terminations_succeeds(backend, make_stack):
    """The first request after the connections died is a write (no retry would be safe for it):
    the checkout hands it a live connection."""
    _skip_without_postgresql(backend)
    stack = make_stack(**NO_IDLE_PINGS)
    url = stack.serve(processes=1)
    api = api_session(url, stack.create_tenant())
    stack.worker()
    body = {"name": "Agent", "system_prompt": "You confirm deliveries."}
    assert api("POST", "/agents", json=body).status_code == 201
    assert api("GET", "/agents").status_code == 200

    _terminate_every_connection(stack.database_url)

    created = api("POST", "/agents", json=body)
    assert created.status_code == 201, created.text
    listed = api("GET", "/agents")
    assert listed.status_code == 200 and listed.json()["meta"]["pagination"]["total"] == 2, listed.text
