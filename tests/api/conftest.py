"""Fixtures for the API tests: calls that really ran through the session's worker."""

import os
import subprocess
import sys

import pytest
import requests

from tests.api.helpers import BUSY_NUMBER, COMPLETED_NUMBER, FinishedCalls, execute
from tests.support import ROOT, ScopedClient, Tenant, free_port, scaled, wait_for_call, wait_until


@pytest.fixture(scope="session")
def finished_calls(app, worker) -> FinishedCalls:
    tenant = Tenant(app, ScopedClient(app))
    first, second = tenant.agent(name="Completer"), tenant.agent(name="Busy line")
    completed_task = tenant.task(first["id"], to_number=COMPLETED_NUMBER)
    failed_task = tenant.task(second["id"], to_number=BUSY_NUMBER)
    completed_call, failed_call = execute(tenant, completed_task["id"]), execute(tenant, failed_task["id"])
    for call_id in (completed_call, failed_call):
        wait_for_call(tenant, call_id)  # finalized: the report is there for every test
    return FinishedCalls(
        tenant=tenant,
        agent_ids=(first["id"], second["id"]),
        completed_task_id=completed_task["id"],
        failed_task_id=failed_task["id"],
        completed_call_id=completed_call,
        failed_call_id=failed_call,
    )


@pytest.fixture
def two_web_processes(backend, request):
    """Two gunicorn processes serving the app, sharing the database and Redis (the test's app's).
    RATE_LIMIT is the test module's WEB_RATE_LIMIT, if it has one."""
    env = {**os.environ}
    if hasattr(request.module, "WEB_RATE_LIMIT"):
        env["RATE_LIMIT"] = request.module.WEB_RATE_LIMIT
    ports = [free_port(), free_port()]
    log = open(backend["instance"] / "gunicorn.log", "a")  # noqa: SIM115 - closed below
    boot_timeout = str(round(scaled(120)))  # gunicorn kills a worker that takes longer to boot
    argv = [sys.executable, "-m", "gunicorn", "-w", "1", "--timeout", boot_timeout, "wsgi:app"]
    processes = [
        subprocess.Popen([*argv, "-b", f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url in urls:
            wait_until(lambda url=url: _serves(url), timeout=120, message=f"gunicorn at {url} to boot its worker")
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=scaled(60))  # gunicorn's graceful stop takes up to 30 s
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=scaled(10))
        log.close()


def _serves(url: str) -> bool:
    try:
        return requests.get(f"{url}/api/v1/openapi.json", timeout=scaled(30)).status_code == 200
    except requests.ConnectionError:
        return False
