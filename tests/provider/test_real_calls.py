"""Calls placed through the ElevenLabs emulator by a real worker: live turns over the WebSocket,
the provider's analysis in the report, the recording with Range, unanswered outcomes, and
provider errors at placement and at execute time."""

import threading

import pytest

from tests.emulators import BUSY_NUMBER, NO_ANSWER_NUMBER, VOICEMAIL_NUMBER
from tests.provider.helpers import (
    AGENTS,
    OUTBOUND_CALL,
    PROVIDER_TIMEOUT_SECONDS,
    execute,
    finished,
    make_app,
    provider_settings,
    start_call,
    synced_agent,
)
from tests.support import free_port, scaled, wait_until, watch_call_socket

pytestmark = pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated")


def _watch(account, call_id: str) -> tuple[list, threading.Event]:
    return watch_call_socket(account.http.data(f"/calls/{call_id}/live"))


def test_completed_call_streams_turns_and_keeps_analysis_and_recording(account, emulator):
    call_id = start_call(account)
    messages, done = _watch(account, call_id)
    assert done.wait(scaled(30)), "the socket never saw the call end"

    updates = [m["data"] for m in messages if m["type"] == "transcript_update"]
    assert len(updates) >= 3, [m["type"] for m in messages]  # turns arrive while the call runs
    sizes = [len(update["transcript"]) for update in updates]
    assert sizes == sorted(sizes) and sizes[-1] == 5
    assert all(update["new_turns"] for update in updates)
    assert messages[-1]["data"]["status"] == "completed"

    call = finished(account, call_id)
    assert call["status"] == "completed" and call["end_reason"] == "ended_by_agent"
    assert call["termination_reason"] == "end_call tool was called." and call["failure_reason"] is None
    assert call["duration_seconds"] > 20 and call["cost_credits"] > 0
    assert call["transcript"] == updates[-1]["transcript"]
    assert "Jane Roe" in call["transcript"][0]["text"] and "A-1001" in call["transcript"][0]["text"]
    assert any(event["tool"] == "end_call" for event in call["events"])
    outbound = emulator.calls[call["provider_call_id"]]
    assert outbound.dynamic_variables["customer_name"] == "Jane Roe"

    report = account.http.data(f"/calls/{call_id}/report")
    assert report["source"] == "provider" and report["call_successful"] is True
    assert report["summary"].startswith("The agent reached the callee")
    assert report["extracted_data"]["callee_outcome"] == "confirmed"
    assert report["metrics"]["turns"] == 5
    refreshed = account.http.post(f"/calls/{call_id}/transcript")
    assert refreshed.status_code == 200, refreshed.text
    assert refreshed.json()["data"]["transcript"] == call["transcript"]
    assert refreshed.json()["data"]["report"]["source"] == "provider"

    recording = _recording(account, call_id)
    assert recording["content_type"] == "audio/mpeg"
    whole = account.http.get(f"/calls/{call_id}/recording/stream")
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "audio/mpeg"
    assert whole.content.startswith(b"ID3") and len(whole.content) > 100_000
    assert emulator.requests_to("GET", f"/v1/convai/conversations/{call['provider_call_id']}/audio")
    part = account.http.get(f"/calls/{call_id}/recording/stream", headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == whole.content[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(whole.content)}"


def _recording(account, call_id: str) -> dict:
    return wait_until(
        lambda: (r := account.http.get(f"/calls/{call_id}/recording")).status_code == 200 and r.json()["data"],
        message="the recording",
    )


def test_unanswered_calls_map_to_failure_reasons(account):
    expected = {BUSY_NUMBER: "busy", NO_ANSWER_NUMBER: "no_answer", VOICEMAIL_NUMBER: "voicemail"}
    agent = synced_agent(account)
    calls = {
        number: execute(account, account.task(agent["id"], to_number=number)["id"]) for number in expected
    }  # fmt: skip

    for number, reason in expected.items():
        call = finished(account, calls[number])
        assert (call["status"], call["failure_reason"]) == ("failed", reason), call
        task = account.http.data(f"/tasks/{call['task_id']}")
        assert task["status"] == "failed"
    voicemail = account.http.data(f"/calls/{calls[VOICEMAIL_NUMBER]}")
    assert voicemail["termination_reason"] == "voicemail_detection tool was called."
    assert voicemail["report"]["source"] == "provider" and voicemail["report"]["call_successful"] is False


@pytest.mark.parametrize(
    ("inject", "message"),
    [
        (lambda emulator: emulator.fail_next(500, path_prefix=OUTBOUND_CALL), "refused placing the call (HTTP 500)"),
        (
            lambda emulator: emulator.delay_next(PROVIDER_TIMEOUT_SECONDS + 1, path_prefix=OUTBOUND_CALL),
            "did not answer in time",
        ),
    ],
    ids=["http-500", "timeout"],
)
def test_provider_error_at_placement_fails_the_call(account, emulator, inject, message):
    agent = synced_agent(account)
    task = account.task(agent["id"])
    inject(emulator)

    call = finished(account, execute(account, task["id"]))

    assert (call["status"], call["failure_reason"]) == ("failed", "provider_error")
    assert message in call["error_message"] and call["provider_call_id"] is None
    assert account.http.data(f"/tasks/{task['id']}")["status"] == "failed"


def _assert_nothing_executed(account, task_id: str) -> None:
    assert account.http.data(f"/tasks/{task_id}")["status"] == "pending"
    assert account.http.data(f"/calls?task_id={task_id}") == []


def test_execute_answers_503_when_elevenlabs_is_unreachable(account, emulator, backend):
    agent = synced_agent(account)
    task = account.task(agent["id"])

    emulator.fail_next(503, path_prefix=AGENTS)
    response = account.http.post(f"/tasks/{task['id']}/execute")
    body = response.json()
    assert response.status_code == 503 and body["success"] is False
    assert "unavailable" in body["error"] and "HTTP 503" in body["error"]
    _assert_nothing_executed(account, task["id"])

    nowhere = make_app(backend, provider_settings(emulator, ELEVENLABS_API_BASE_URL=f"http://127.0.0.1:{free_port()}"))
    response = nowhere.test_client().post(
        f"/api/v1/tasks/{task['id']}/execute", headers={"Authorization": f"Bearer {account.key}"}
    )
    assert response.status_code == 503, response.get_json()
    assert "could not be reached" in response.get_json()["error"]
    _assert_nothing_executed(account, task["id"])
