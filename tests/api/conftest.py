"""Fixtures for the API tests: a test client that serves each request as production does, and calls
that really ran through the session's worker."""

import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from tests.api.helpers import BUSY_NUMBER, COMPLETED_NUMBER, execute, wait_for_end
from tests.support import ROOT, ScopedClient


@dataclass
class FinishedCalls:
    """One organization with two agents, a completed call (first agent) and a failed one (second)."""

    tenant: object
    agent_ids: tuple[str, str]
    completed_task_id: str
    failed_task_id: str
    completed_call_id: str
    failed_call_id: str


@pytest.fixture(scope="session")
def finished_calls(app, worker) -> FinishedCalls:
    from tests.support import Tenant

    tenant = Tenant(app, ScopedClient(app))
    first, second = tenant.agent(name="Completer"), tenant.agent(name="Busy line")
    completed_task = tenant.task(first["id"], to_number=COMPLETED_NUMBER)
    failed_task = tenant.task(second["id"], to_number=BUSY_NUMBER)
    completed_call, failed_call = execute(tenant, completed_task["id"]), execute(tenant, failed_task["id"])
    for call_id in (completed_call, failed_call):
        wait_for_end(tenant, call_id)
    return FinishedCalls(
        tenant=tenant,
        agent_ids=(first["id"], second["id"]),
        completed_task_id=completed_task["id"],
        failed_task_id=failed_task["id"],
        completed_call_id=completed_call,
        failed_call_id=failed_call,
    )


@pytest.fixture
def fresh_database_url(backend, tmp_path):
    """An empty database of the backend's kind: a new SQLite file, or a new PostgreSQL database."""
    if backend["kind"] == "embedded":
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    from tests.conftest import _create_pg_database, _drop_pg_database

    name, url = _create_pg_database()
    yield url
    _drop_pg_database(name)


@pytest.fixture
def flask_cli(backend):
    """Runs `flask --app wsgi ...` as a subprocess against a database; returns the finished process."""

    def run(*args: str, database_url: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "DATABASE_URL": database_url or backend["database_url"]}
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)  # fmt: skip
        if check:
            assert result.returncode == 0, result.stderr[-2000:]
        return result

    return run
