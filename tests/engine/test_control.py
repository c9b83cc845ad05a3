"""Execute, reset, end, cancel, scheduled tasks and transcript refresh."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import requests

from tests.support import Lane, Tenant, execute, wait_for_call, wait_until


@pytest.fixture(scope="module")
def slow_lane(backend):
    """An app and a worker of their own (own Redis namespace) where calls run at 2x real time,
    slow enough to act on a call while it is in progress."""
    lane = Lane(backend, time_scale=2)
    with lane.app.app_context():
        yield lane.app
    lane.close()


@pytest.fixture
def slow_tenant(slow_lane):
    return Tenant(slow_lane, slow_lane.test_client())


def _in_progress_with_turns(tenant, call_id: str, turns: int = 2) -> dict:
    def ready():
        call = tenant.api.get(f"/calls/{call_id}").get_json()["data"]
        return call if call["status"] == "in_progress" and len(call["transcript"]) >= turns else None

    return wait_until(ready, timeout=40, message="the call to be in progress with turns")


def test_concurrent_executes_make_exactly_one_call(live_server, tenant, worker):
    task = tenant.task()
    barrier = threading.Barrier(8)
    statuses: list[int] = []

    def hit():
        barrier.wait()
        response = requests.post(
            f"{live_server}/api/v1/tasks/{task['id']}/execute", headers={"Authorization": f"Bearer {tenant.key}"}
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=hit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [409] * 7
    calls = tenant.api.get(f"/calls?task_id={task['id']}").get_json()
    assert calls["meta"]["pagination"]["total"] == 1


def test_execute_refuses_tasks_that_are_not_pending(tenant, worker):
    task = tenant.task()
    call_id = execute(tenant, task["id"])
    again = tenant.api.post(f"/tasks/{task['id']}/execute")
    assert again.status_code == 409 and "pending" in again.get_json()["error"]
    wait_for_call(tenant, call_id)


def test_end_mid_call_completes_it_with_the_transcript_so_far(slow_tenant):
    task = slow_tenant.task()
    call_id = execute(slow_tenant, task["id"])
    during = _in_progress_with_turns(slow_tenant, call_id)

    ended = slow_tenant.api.post(f"/calls/{call_id}/end")
    assert ended.status_code == 200 and ended.get_json()["data"]["status"] == "completed"
    call = wait_for_call(slow_tenant, call_id)
    assert call["status"] == "completed" and call["end_reason"] == "ended_via_api"
    assert len(during["transcript"]) <= len(call["transcript"]) < 8
    assert slow_tenant.api.get(f"/tasks/{task['id']}").get_json()["data"]["status"] == "completed"
    again = slow_tenant.api.post(f"/calls/{call_id}/end")
    assert again.status_code == 409 and "already over" in again.get_json()["error"]


def test_cancel_marks_the_call_failed_and_stops_it(slow_tenant):
    task = slow_tenant.task()
    call_id = execute(slow_tenant, task["id"])
    _in_progress_with_turns(slow_tenant, call_id, turns=1)

    cancelled = slow_tenant.api.post(f"/calls/{call_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.get_json()["data"]["status"] == "failed"
    call = wait_for_call(slow_tenant, call_id)
    assert call["failure_reason"] == "cancelled"
    turns_at_cancel = len(call["transcript"])
    later = wait_for_call(slow_tenant, call_id)
    assert len(later["transcript"]) == turns_at_cancel, "no turns after the call was stopped"
    assert slow_tenant.api.get(f"/tasks/{task['id']}").get_json()["data"]["status"] == "failed"
    assert slow_tenant.api.post(f"/calls/{call_id}/cancel").status_code == 409


def test_reset_only_after_the_call_is_over(slow_tenant):
    task = slow_tenant.task()
    assert slow_tenant.api.post(f"/tasks/{task['id']}/reset").status_code == 409  # already pending
    call_id = execute(slow_tenant, task["id"])
    busy = slow_tenant.api.post(f"/tasks/{task['id']}/reset")
    assert busy.status_code == 409 and "active" in busy.get_json()["error"]
    slow_tenant.api.post(f"/calls/{call_id}/cancel")
    reset = slow_tenant.api.post(f"/tasks/{task['id']}/reset")
    assert reset.status_code == 200 and reset.get_json()["data"]["status"] == "pending"
    second_call = execute(slow_tenant, task["id"])
    assert second_call != call_id


def test_due_scheduled_tasks_start_by_themselves_highest_priority_first(live_server, worker, tenant):
    agent = tenant.agent()
    due = (datetime.now(UTC) + timedelta(seconds=2)).isoformat()  # both fall due in the same tick
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    low = tenant.task(agent["id"], name="low", priority=1, scheduled_at=due)
    high = tenant.task(agent["id"], name="high", priority=9, scheduled_at=due)
    future = tenant.task(agent["id"], name="future", priority=99, scheduled_at=later)

    def both_started():
        tasks = {t["name"]: t for t in tenant.api.get("/tasks?limit=100").get_json()["data"]}
        return tasks if tasks["low"]["executed_at"] and tasks["high"]["executed_at"] else None

    tasks = wait_until(both_started, timeout=30, message="scheduled tasks to start")
    assert tasks["high"]["executed_at"] <= tasks["low"]["executed_at"]
    assert tasks["future"]["status"] == "pending" and tasks["future"]["executed_at"] is None
    for task in (low, high):
        wait_for_call(tenant, tenant.api.get(f"/tasks/{task['id']}").get_json()["data"]["last_call_id"])
    assert future["id"]


def test_transcript_refetch_regenerates_the_report(run_call, tenant):
    call = run_call("+14155550142")
    refreshed = tenant.api.post(f"/calls/{call['id']}/transcript")
    body = refreshed.get_json()["data"]
    assert refreshed.status_code == 200
    assert body["transcript"] == call["transcript"]
    assert body["report"]["generated_at"] >= call["report"]["generated_at"]
    assert body["extracted_data"] == body["report"]["extracted_data"]
    assert tenant.api.get(f"/calls/{call['id']}/report").get_json()["data"] == body["report"]


def test_recording_is_404_for_calls_without_audio(run_call, tenant):
    call = run_call("+15005550001")
    for path in ("recording", "recording/stream"):
        response = tenant.api.get(f"/calls/{call['id']}/{path}")
        assert response.status_code == 404 and "Recording" in response.get_json()["error"]
