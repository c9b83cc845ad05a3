"""Every test number of docs/api.md, through the real worker and the simulated provider."""

import pytest

NAVIGATION = {"navigation": [{"when": "press 1 for billing", "press": "1"}]}
KEY_INPUTS = {"inputs": {"1": {"action": "confirm", "label": "confirmed"}, "9": {"action": "opt_out"}}}


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("+15005550001", "no_answer"),
        ("+15005550002", "busy"),
        ("+15005550003", "voicemail"),
        ("+15005550004", "dropped"),
    ],
)
def test_failing_numbers(run_call, tenant, number, reason):
    call = run_call(number)
    assert call["status"] == "failed" and call["failure_reason"] == reason
    assert call["report"]["call_successful"] is False
    task = tenant.api.get(f"/tasks/{call['task_id']}").get_json()["data"]
    assert task["status"] == "failed"
    if reason in ("no_answer", "busy"):
        assert call["transcript"] == [] and call["answered_at"] is None
    else:
        assert call["transcript"], "the callee's side was heard before the failure"


def test_ivr_reaches_a_person_through_navigation_rules(run_call):
    call = run_call("+15005550005", {"dtmf_rules": NAVIGATION})
    assert call["status"] == "completed", call
    assert any(t["role"] == "agent" and "1" in t["text"] and "press" in t["text"].lower() for t in call["transcript"])
    assert any(e.get("digit") == "1" for e in call["events"])


def test_ivr_without_matching_rule_is_unnavigable(run_call):
    call = run_call("+15005550005", {"dtmf_rules": {"navigation": [{"when": "/press 7 for pizza/", "press": "7"}]}})
    assert call["status"] == "failed" and call["failure_reason"] == "ivr_unnavigable"


def test_key_presses_follow_dtmf_inputs(run_call):
    call = run_call("+15005550006", {"dtmf_rules": KEY_INPUTS})
    presses = {e["digit"]: e for e in call["events"] if e.get("type") == "dtmf"}
    assert presses["1"]["action"] == "confirm" and presses["9"]["action"] == "opt_out"
    assert call["status"] == "completed"
    assert call["report"]["outcome"] == "opted_out" and call["report"]["call_successful"] is False


def test_conversation_follows_agent_and_task(run_call):
    call = run_call(
        "+14155550199",
        {"starting_message": "Hello from the agent"},
        starting_message="Hi {{customer_name}}, calling about order {{order_id}}",
        context_data={"customer_name": "Maria Lopez", "order_id": "Z-9"},
    )
    assert call["status"] == "completed" and call["end_reason"] in ("ended_by_agent", "ended_by_callee")
    first = call["transcript"][0]
    assert first["role"] == "agent" and "Maria Lopez" in first["text"] and "Z-9" in first["text"]
    roles = {t["role"] for t in call["transcript"]}
    assert roles == {"agent", "user"} and len(call["transcript"]) >= 6
    starts = [t["start_seconds"] for t in call["transcript"]]
    assert starts == sorted(starts)
    assert call["duration_seconds"] >= call["transcript"][-1]["end_seconds"]
