"""A worker SIGKILLed in the middle of calls: the sweep of a new worker finalizes them, so nothing
stays in progress. The calls go through ElevenLabs (the local emulator), which can be made to hang
or fail, on an isolated deployment."""

import pytest

from tests.emulators import ProviderEmulator
from tests.reliability.stack import api_session
from tests.support import wait_until

OUTBOUND_CALL = "/v1/convai/twilio/outbound-call"
CONVERSATIONS = "/v1/convai/conversations"
PLACEMENT_HANG_SECONDS = 25


@pytest.fixture
def emulator():
    """Each poll moves a conversation 0.5 s of call time on: calls stay in progress for a while."""
    server = ProviderEmulator(clock="polls", step_seconds=0.5).start()
    yield server
    server.stop()


def elevenlabs_settings(emulator) -> dict:
    return {
        "TELEPHONY_PROVIDER": "elevenlabs",
        "ELEVENLABS_API_KEY": emulator.api_key,
        "ELEVENLABS_API_BASE_URL": emulator.url,
        "ELEVENLABS_AGENT_PHONE_NUMBER_ID": emulator.phone_number_id,
        "TWILIO_ACCOUNT_SID": emulator.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": emulator.twilio_auth_token,
        "TWILIO_API_BASE_URL": emulator.url,
        "PROVIDER_TIMEOUT_SECONDS": PLACEMENT_HANG_SECONDS + 5,  # the hung placement outlives the worker
        "AGENT_SYNC_RETRY_SECONDS": 0.5,
    }


def _call(api, call_id: str) -> dict:
    return api("GET", f"/calls/{call_id}").json()["data"]


def _execute(api, agent_id: str) -> tuple[str, str]:
    task = api("POST", "/tasks", json={"agent_id": agent_id, "name": "Call Jane", "to_number": "+14155550123"})
    assert task.status_code == 201, task.text
    task_id = task.json()["data"]["id"]
    executed = api("POST", f"/tasks/{task_id}/execute")
    assert executed.status_code == 200, executed.text
    return task_id, executed.json()["data"]["call_id"]


def test_calls_of_a_killed_worker_are_finalized_by_the_sweep(make_stack, emulator):
    stack = make_stack(**elevenlabs_settings(emulator))
    api = api_session(stack.serve(), stack.create_tenant())
    doomed = stack.worker()
    agent = api("POST", "/agents", json={"name": "Agent", "system_prompt": "You confirm deliveries."}).json()["data"]

    talking_task, talking_call = _execute(api, agent["id"])
    wait_until(lambda: _call(api, talking_call)["status"] == "in_progress", message="the first call to be answered")
    emulator.delay_next(PLACEMENT_HANG_SECONDS, path_prefix=OUTBOUND_CALL)
    placing_task, placing_call = _execute(api, agent["id"])
    wait_until(lambda: emulator.requests_to("POST", OUTBOUND_CALL)[1:], message="the second call's placement")

    emulator.fail_next(500, times=100_000, path_prefix=CONVERSATIONS)  # the provider stops answering
    doomed.kill()
    assert _call(api, talking_call)["status"] == "in_progress"
    assert _call(api, placing_call)["status"] == "initiated" and not _call(api, placing_call)["provider_call_id"]

    stack.worker(CALL_STALE_SECONDS=1, CALL_PLACE_TIMEOUT_SECONDS=1, SWEEP_INTERVAL_SECONDS=0.3)
    for call_id, task_id, reasons in (
        (talking_call, talking_task, {"timeout"}),
        (placing_call, placing_task, {"provider_error", "timeout"}),
    ):
        call = wait_until(lambda c=call_id: (d := _call(api, c))["report"] and d, message=f"call {call_id} swept")
        assert call["status"] == "failed" and call["failure_reason"] in reasons, call
        assert call["error_message"]
        assert api("GET", f"/tasks/{task_id}").json()["data"]["status"] == "failed"
    for status in ("initiated", "in_progress"):
        assert api("GET", f"/calls?status={status}").json()["meta"]["pagination"]["total"] == 0
