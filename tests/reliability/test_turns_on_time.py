"""Turns reach the call when they happen: with the simulated provider (which knows when each turn
ends) a call advances even when the polling pass practically never runs."""

from tests.reliability.stack import api_session
from tests.support import wait_until


def test_a_simulated_call_advances_without_the_polling_pass(make_stack):
    stack = make_stack(SYNC_INTERVAL_SECONDS=3600, SIMULATOR_TIME_SCALE=10)  # one pass, at start-up
    api = api_session(stack.serve(), stack.create_tenant())
    stack.worker()
    agent = api("POST", "/agents", json={"name": "Agent", "system_prompt": "You confirm deliveries."}).json()["data"]
    task = api("POST", "/tasks", json={"agent_id": agent["id"], "name": "Call Jane", "to_number": "+14155550123"})
    call_id = api("POST", f"/tasks/{task.json()['data']['id']}/execute").json()["data"]["call_id"]

    seen = []

    def finished():
        call = api("GET", f"/calls/{call_id}").json()["data"]
        if not seen or len(call["transcript"]) != seen[-1]:
            seen.append(len(call["transcript"]))
        return call["status"] in ("completed", "failed") and call

    call = wait_until(finished, timeout=90, message="the call to end")
    assert call["status"] == "completed" and len(call["transcript"]) >= 4, call
    assert len(seen) > 2, f"the transcript grew turn by turn while the call ran: {seen}"
