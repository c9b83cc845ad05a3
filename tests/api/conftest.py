"""Fixtures for the API tests: calls that really ran through the session's worker."""

import pytest

from tests.api.helpers import BUSY_NUMBER, COMPLETED_NUMBER, FinishedCalls, execute, wait_for_end
from tests.support import ScopedClient, Tenant


@pytest.fixture(scope="session")
def finished_calls(app, worker) -> FinishedCalls:
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
