"""wire.model_bytes writes what jsonify wrote for model_dump(mode="json"): the same bytes, whether
it takes the fast way (dump_json of a sorted twin) or falls back to the json module."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from webapp.api import wire
from webapp.schemas.agents import AgentOut
from webapp.schemas.calls import CallDetailOut, WebhookDeliveryOut
from webapp.schemas.tasks import TaskDetailOut

WHEN = datetime(2030, 1, 2, 3, 4, 5, 678900, tzinfo=UTC)


def _task(**overrides) -> dict:
    task = {
        "id": "t1", "agent_id": "a1", "name": "Call", "description": None, "to_number": "+14155550123",
        "starting_message": None, "context_data": {"z": 1, "a": {"y": [2, {"d": 1, "c": 2}], "b": None}},
        "priority": 0, "scheduled_at": WHEN.astimezone(timezone(timedelta(hours=2))), "webhook_url": None,
        "webhook_events": ["call_started"], "status": "pending", "last_call_id": None, "executed_at": None,
        "finished_at": None, "campaign_id": None, "attempt_count": 0, "dispatch_after": None,
        "status_reason": None, "created_at": WHEN, "updated_at": WHEN.replace(microsecond=0),
        "agent": {"id": "a1", "name": "Agent", "enabled": True}, "attempts": [],
    }  # fmt: skip
    return {**task, **overrides}


def _before(model, data, many=False) -> bytes:
    if many:
        return wire.jsonify_bytes([model.model_validate(item).model_dump(mode="json") for item in data])
    return wire.jsonify_bytes(model.model_validate(data).model_dump(mode="json"))


@pytest.mark.parametrize(
    "context_data",
    [
        {"plain": "ascii"},
        {"text": 'José 🎙 «Zoë» \u2028 \x1f </tag> "q" \\'},
        {"del": "a\x7fb"},
        {"small": 1e-7, "smaller": 2.5e-9, "tiny": 1e-10, "big": 1e16, "huge": 1.5e300},
        {"word": "re-1e-5x pre-2", "n": 12345678901234567890123},
        {"nested": [{"b": 1, "a": [{"d": 0.1, "c": -0.0}]}]},
        {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")},
    ],
)
def test_tasks_are_the_same_bytes_as_jsonify(context_data):
    task = _task(context_data=context_data)
    assert wire.model_bytes(TaskDetailOut, task) == _before(TaskDetailOut, task)
    assert wire.model_bytes(TaskDetailOut, [task, task], many=True) == _before(TaskDetailOut, [task, task], many=True)


def test_the_fast_way_is_taken_for_ordinary_payloads_and_not_for_the_two_spellings():
    assert wire._python_would_write_the_same(b'{"a":"Jos\\u00e9","b":1.5e+16,"c":"re-send 1e-10"}')
    assert wire._python_would_write_the_same(b'{"id":"8f4e-4b2c-9e-1d","n":2.5e-10}')
    assert not wire._python_would_write_the_same(b'{"a":1e-7}')
    assert not wire._python_would_write_the_same(b'{"a":"\x7f"}')


def test_agents_calls_and_deliveries_fill_defaults_and_sort_nested_models():
    agent = {
        "id": "a1", "name": "Agent", "description": None, "system_prompt": "p", "starting_message": None,
        "language": "en", "enabled": True, "voice_settings": {"speed": 1.1}, "dtmf_rules": {},
        "dynamic_variables": {"z": 1, "a": 2.5, "m": True, "b": "x"}, "ringing_timeout_secs": None,
        "voicemail_action": "hang_up", "voicemail_message": None, "remote_agent_id": None,
        "sync_status": "not_required", "sync_error": None, "created_at": WHEN, "updated_at": WHEN,
    }  # fmt: skip
    assert wire.model_bytes(AgentOut, agent) == _before(AgentOut, agent)
    turn = {"role": "agent", "text": "Hi", "start_seconds": 0.0, "end_seconds": 1.25}
    call = {
        "id": "c1", "task_id": "t1", "agent_id": "a1", "to_number": "+1", "status": "completed",
        "failure_reason": None, "end_reason": "hangup", "error_message": None, "provider": "simulated",
        "provider_call_id": None, "answered_at": WHEN, "ended_at": WHEN, "duration_seconds": 12.5,
        "cost_credits": None, "cost_usd": 0.0001, "has_recording": False, "created_at": WHEN, "updated_at": WHEN,
        "termination_reason": None, "finalized_at": None, "recording_status": None, "recording_note": None,
        "events": [{"type": "x", "at": "now", "data": {"b": 1, "a": 2}}], "transcript": [turn],
        "report": {"summary": "s", "outcome": "o", "call_successful": True, "extracted_data": {"z": 1, "a": 2},
                   "metrics": {"duration_seconds": 1.0, "turns": 1, "agent_talk_seconds": 0.5,
                               "user_talk_seconds": 0.5}, "source": "local", "generated_at": "2030-01-01T00:00:00Z"},
    }  # fmt: skip
    assert wire.model_bytes(CallDetailOut, call) == _before(CallDetailOut, call)
    delivery = {
        "id": "d1", "call_id": "c1", "task_id": "t1", "event_type": "call_started", "url": "https://x",
        "status": "delivered", "attempt_count": 1, "next_attempt_at": None, "delivered_at": WHEN,
        "created_at": WHEN, "attempts": [{"number": 1, "attempted_at": WHEN, "status_code": 200,
                                           "latency_ms": 5, "error": None}],
    }  # fmt: skip
    assert wire.model_bytes(WebhookDeliveryOut, [delivery], many=True) == _before(
        WebhookDeliveryOut, [delivery], many=True
    )
