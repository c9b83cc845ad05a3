import pytest

from tests.support import wait_until


def wait_for_call(tenant, call_id: str, *, finalized: bool = True, timeout: float = 60) -> dict:
    """The call once it is terminal (and finalized, with its report, unless told otherwise)."""

    def done():
        call = tenant.api.get(f"/calls/{call_id}").get_json()["data"]
        if call["status"] in ("completed", "failed") and (call["report"] or not finalized):
            return call
        return None

    return wait_until(done, timeout=timeout, message=f"call {call_id} to finish")


def execute(tenant, task_id: str) -> str:
    response = tenant.api.post(f"/tasks/{task_id}/execute")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]["call_id"]


@pytest.fixture
def run_call(tenant, worker):
    """Create a task for `number` with the given agent fields, execute it, return the finished call."""

    def run(number: str, agent_fields: dict | None = None, **task_fields) -> dict:
        agent = tenant.agent(**(agent_fields or {}))
        task = tenant.task(agent["id"], to_number=number, **task_fields)
        return wait_for_call(tenant, execute(tenant, task["id"]))

    return run
