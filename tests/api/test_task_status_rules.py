"""Status rules on tasks and agents with real calls: update only while pending, delete only when
pending or failed, no agent deletion while it has open tasks, execute and reset."""

from tests.api.helpers import BUSY_NUMBER, assert_error, assert_ok, execute, wait_for_end


def test_an_executing_then_completed_task_cannot_be_changed_until_reset(tenant, worker):
    agent = tenant.agent()
    task = tenant.task(agent["id"])
    call_id = execute(tenant, task["id"])

    in_progress = {"status": "in_progress"}
    _, details = assert_error(tenant.api.patch(f"/tasks/{task['id']}", json={"name": "Renamed"}), 409)
    assert details == in_progress
    error, details = assert_error(tenant.api.delete(f"/tasks/{task['id']}"), 409)
    assert error == "Only pending or failed tasks can be deleted; this task is in_progress"
    assert details == in_progress
    error, details = assert_error(tenant.api.delete(f"/agents/{agent['id']}"), 409)
    assert error == "Agent has 1 pending or in-progress task(s); finish or delete them first"
    error, _ = assert_error(tenant.api.post(f"/tasks/{task['id']}/execute"), 409)
    assert error == "Only pending tasks can be executed; this task is in_progress"

    call = wait_for_end(tenant, call_id)
    assert call["status"] == "completed"
    fetched = assert_ok(tenant.api.get(f"/tasks/{task['id']}"))
    assert fetched["status"] == "completed" and fetched["last_call_id"] == call_id
    error, details = assert_error(tenant.api.patch(f"/tasks/{task['id']}", json={"name": "Renamed"}), 409)
    assert error == "Only pending tasks can be updated; this task is completed"
    assert details == {"status": "completed"}
    assert_error(tenant.api.delete(f"/tasks/{task['id']}"), 409)
    assert assert_ok(tenant.api.get(f"/tasks/{task['id']}"))["name"] == task["name"]

    reset = assert_ok(tenant.api.post(f"/tasks/{task['id']}/reset"))
    assert reset["status"] == "pending" and reset["agent"]["id"] == agent["id"]
    error, _ = assert_error(tenant.api.post(f"/tasks/{task['id']}/reset"), 409)
    assert error == "The task is already pending"
    assert assert_ok(tenant.api.patch(f"/tasks/{task['id']}", json={"name": "Renamed"}))["name"] == "Renamed"
    assert_error(tenant.api.delete(f"/agents/{agent['id']}"), 409)


def test_a_failed_task_can_be_deleted_and_then_its_agent(tenant, worker):
    agent = tenant.agent()
    task = tenant.task(agent["id"], to_number=BUSY_NUMBER)
    call = wait_for_end(tenant, execute(tenant, task["id"]))
    assert call["status"] == "failed" and call["failure_reason"] == "busy"
    assert assert_ok(tenant.api.get(f"/tasks/{task['id']}"))["status"] == "failed"
    _, details = assert_error(tenant.api.patch(f"/tasks/{task['id']}", json={"priority": 1}), 409)
    assert details == {"status": "failed"}

    assert assert_ok(tenant.api.delete(f"/tasks/{task['id']}")) == {"id": task["id"], "deleted": True}
    assert_error(tenant.api.get(f"/tasks/{task['id']}"), 404)
    assert assert_ok(tenant.api.delete(f"/agents/{agent['id']}"))["deleted"] is True


def test_a_disabled_agent_cannot_execute(tenant):
    agent = tenant.agent(enabled=False)
    task = tenant.task(agent["id"])
    error, details = assert_error(tenant.api.post(f"/tasks/{task['id']}/execute"), 409)
    assert "disabled" in error and details == {"agent_id": agent["id"]}
    assert assert_ok(tenant.api.get(f"/tasks/{task['id']}"))["status"] == "pending"
