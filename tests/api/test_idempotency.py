"""Idempotency-Key on POSTs: replay, mismatch, in flight, per organization."""

import threading

import requests


def _task_body(agent_id: str, name: str = "Call Jane") -> dict:
    return {"agent_id": agent_id, "name": name, "to_number": "+14155550123"}


def test_same_key_same_body_replays_the_first_answer(tenant):
    agent = tenant.agent()
    headers = {"Idempotency-Key": "create-jane-1"}
    first = tenant.api.post("/tasks", json=_task_body(agent["id"]), headers=headers)
    again = tenant.api.post("/tasks", json=_task_body(agent["id"]), headers=headers)
    assert first.status_code == again.status_code == 201
    assert "Idempotent-Replayed" not in first.headers and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert tenant.api.get("/tasks").get_json()["meta"]["pagination"]["total"] == 1
    errors = [tenant.api.post("/tasks", json={"name": ""}, headers={"Idempotency-Key": "bad"}) for _ in range(2)]
    assert [e.status_code for e in errors] == [400, 400] and errors[1].headers["Idempotent-Replayed"] == "true"


def test_same_key_different_body_is_422(tenant):
    agent = tenant.agent()
    headers = {"Idempotency-Key": "create-jane-2"}
    assert tenant.api.post("/tasks", json=_task_body(agent["id"]), headers=headers).status_code == 201
    other = tenant.api.post("/tasks", json=_task_body(agent["id"], "Call John"), headers=headers)
    assert other.status_code == 422 and "Idempotency-Key" in other.get_json()["details"]
    assert tenant.api.get("/tasks").get_json()["meta"]["pagination"]["total"] == 1


def test_keys_are_per_organization(tenant, other_tenant):
    headers = {"Idempotency-Key": "shared-key"}
    mine = tenant.api.post("/tasks", json=_task_body(tenant.agent()["id"]), headers=headers)
    theirs = other_tenant.api.post("/tasks", json=_task_body(other_tenant.agent()["id"]), headers=headers)
    assert mine.status_code == theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.get_json()["data"]["id"] != theirs.get_json()["data"]["id"]


def test_same_key_while_the_first_runs_is_409(live_server, tenant):
    """Two uploads of a 10,000-row campaign at once with one key: one runs, the other is told so."""
    agent = tenant.agent()
    rows = [{"to_number": f"+1212{555 + i // 10000}{i % 10000:04d}"} for i in range(10_000)]
    body = {"name": "Big", "agent_id": agent["id"], "tasks": rows}
    headers = {"Authorization": f"Bearer {tenant.key}", "Idempotency-Key": "upload-1"}
    barrier, answers = threading.Barrier(2), []

    def post():
        barrier.wait()
        answers.append(requests.post(f"{live_server}/api/v1/campaigns", json=body, headers=headers, timeout=120))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses in ([201, 409], [201, 201]), statuses
    if statuses == [201, 201]:  # the second came after the first finished: a replay, not a second campaign
        assert sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers) == 1
    assert tenant.api.get("/campaigns").get_json()["meta"]["pagination"]["total"] == 1
    replay = requests.post(f"{live_server}/api/v1/campaigns", json=body, headers=headers, timeout=120)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
