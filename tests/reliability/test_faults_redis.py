"""A Redis outage, on an isolated deployment (its own Redis server, database, gunicorn and worker)."""

from tests.reliability.stack import api_session
from tests.support import wait_until

AGENT = {"name": "Fault agent", "system_prompt": "You confirm deliveries politely."}
NUMBER = "+14155550123"


def _create_task(api, agent_id: str) -> dict:
    response = api("POST", "/tasks", json={"agent_id": agent_id, "name": "Call Jane", "to_number": NUMBER})
    assert response.status_code == 201, response.text
    return response.json()["data"]


def _finished(api, call_id: str) -> dict | None:
    call = api("GET", f"/calls/{call_id}").json()["data"]
    return call if call["status"] in ("completed", "failed") and call["report"] else None


def test_redis_outage_keeps_reads_refuses_execute_cleanly_and_recovers(make_stack):
    stack = make_stack()
    api = api_session(stack.serve(), stack.create_tenant())
    worker = stack.worker()
    agent = api("POST", "/agents", json=AGENT).json()["data"]
    done = _create_task(api, agent["id"])
    done_call = api("POST", f"/tasks/{done['id']}/execute").json()["data"]["call_id"]
    wait_until(lambda: _finished(api, done_call), message="the first call to finish")
    pending = _create_task(api, agent["id"])

    stack.redis.stop()
    wait_until(lambda: "could not enqueue" in worker.output(), message="the worker to notice the outage")
    for path in (
        "/agents",
        "/tasks",
        "/calls",
        f"/agents/{agent['id']}",
        f"/tasks/{done['id']}",
        f"/calls/{done_call}",
    ):
        response = api("GET", path)
        assert response.status_code == 200, (path, response.status_code, response.text[:300])
        assert response.json()["success"] is True
    refused = api("POST", f"/tasks/{pending['id']}/execute")
    assert refused.status_code == 503, refused.text
    body = refused.json()
    assert body["success"] is False and "Redis" in body["error"] and body["meta"]["request_id"]
    assert api("GET", f"/tasks/{pending['id']}").json()["data"]["status"] == "pending"
    assert api("GET", f"/calls?task_id={pending['id']}").json()["meta"]["pagination"]["total"] == 0

    stack.redis.start()
    executed = api("POST", f"/tasks/{pending['id']}/execute")
    assert executed.status_code == 200, executed.text
    call = wait_until(lambda: _finished(api, executed.json()["data"]["call_id"]), message="the call after recovery")
    assert call["status"] == "completed"
    assert api("GET", f"/tasks/{pending['id']}").json()["data"]["status"] == "completed"
