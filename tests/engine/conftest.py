import pytest

from tests.support import execute, wait_for_call


@pytest.fixture
def run_call(tenant, worker):
    """Create a task for `number` with the given agent fields, execute it, return the finished call."""

    def run(number: str, agent_fields: dict | None = None, **task_fields) -> dict:
        agent = tenant.agent(**(agent_fields or {}))
        task = tenant.task(agent["id"], to_number=number, **task_fields)
        return wait_for_call(tenant, execute(tenant, task["id"]))

    return run
