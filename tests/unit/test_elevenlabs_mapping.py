"""Pure mapping rules of the ElevenLabs provider: conversation objects and request bodies."""

from __future__ import annotations

import pytest

from webapp.telephony.base import AgentSpec, CallRequest
from webapp.telephony.elevenlabs.agent_config import (
    agent_payload,
    flatten_dynamic_variables,
    initiation_client_data,
)
from webapp.telephony.elevenlabs.conversation import end_reason, snapshot


def conversation(status="done", call_result="answered", termination="", transcript=None, **metadata):
    return {
        "conversation_id": "conv_1",
        "status": status,
        "transcript": transcript or [],
        "metadata": {
            "call_duration_secs": 30,
            "termination_reason": termination,
            "phone_call": {
                "type": "twilio",
                "call_sid": "CA1",
                "call_result": call_result,
            },
            **metadata,
        },
    }


@pytest.mark.parametrize(
    ("termination", "expected"),
    [
        ("end_call tool was called.", "ended_by_agent"),
        ("Agent ended the call", "ended_by_agent"),
        ("Maximum duration exceeded", "ended_by_agent"),
        ("Call ended by remote party", "ended_by_callee"),
        ("Client disconnected: 1000", "ended_by_callee"),
        ("", "ended_by_callee"),
        (None, "ended_by_callee"),
    ],
)
def test_end_reason_from_termination_reason(termination, expected):
    assert end_reason(termination) == expected


@pytest.mark.parametrize(
    ("status", "call_result", "expected"),
    [
        ("initiated", None, ("initiated", None)),
        ("in-progress", None, ("in_progress", None)),
        ("processing", "answered", ("in_progress", None)),
        ("done", "answered", ("completed", None)),
        ("done", None, ("completed", None)),
        ("done", "voicemail", ("failed", "voicemail")),
        ("done", "busy", ("failed", "busy")),
        ("failed", "no_answer", ("failed", "no_answer")),
        ("failed", "failed", ("failed", "provider_error")),
        ("failed", None, ("failed", "provider_error")),
    ],
)
def test_status_and_call_result_mapping(status, call_result, expected):
    snap = snapshot(conversation(status, call_result))
    assert (snap.status, snap.failure_reason) == expected
    assert snap.end_reason == ("ended_by_callee" if expected[0] == "completed" else None)


def test_failed_conversation_carries_the_provider_error_text():
    snap = snapshot(conversation("failed", None, error={"code": 1011, "reason": "LLM quota exceeded"}))
    assert snap.error_message == "LLM quota exceeded"


def test_turn_times_follow_the_next_turn_or_the_speaking_rate():
    transcript = [
        {
            "role": "agent",
            "message": "Hello there, is this Ann?",
            "time_in_call_secs": 0,
        },
        {
            "role": "agent",
            "message": None,
            "time_in_call_secs": 3,
            "tool_calls": [],
        },  # tool-only turn
        {"role": "user", "message": "Yes it is", "time_in_call_secs": 3},
        {
            "role": "agent",
            "message": "Great. Your order ships today, goodbye.",
            "time_in_call_secs": 3,
        },
    ]
    turns = snapshot(conversation("in-progress", None, transcript=transcript)).turns
    assert [(t.role, t.start_seconds, t.end_seconds) for t in turns] == [
        ("agent", 0.0, 3.0),
        ("user", 3.0, 3.0 + 3 / 2.5),  # next turn starts in the same second: estimate
        ("agent", 3.0, 3.0 + 6 / 2.5),
    ]


def test_flatten_dynamic_variables():
    flat = flatten_dynamic_variables(
        {
            "name": "Ann",
            "order": {"id": 7, "lines": [{"sku": "A"}], "note": None, "total": 9.5},
            "vip": False,
            "tags": ("x", 2),
            "first name": "A",
        }
    )
    assert flat == {
        "name": "Ann",
        "order_id": 7,
        "order_lines": '[{"sku": "A"}]',
        "order_note": "",
        "order_total": 9.5,
        "vip": False,
        "tags": "x, 2",
        "first_name": "A",
    }


def test_agent_payload_for_another_language_uses_a_multilingual_model():
    agent = AgentSpec("a", "Agente", "Habla español.", None, {"voice_id": "v"}, {}, language="es")
    payload = agent_payload(agent)
    assert payload["conversation_config"]["agent"]["language"] == "es"
    assert "first_message" not in payload["conversation_config"]["agent"]
    assert payload["conversation_config"]["tts"]["model_id"] == "eleven_flash_v2_5"


def test_agent_payload_explains_keypad_inputs_in_the_prompt():
    rules = {
        "inputs": {
            "9": {"action": "opt_out"},
            "1": {"action": "confirm", "label": "confirmed"},
        }
    }
    prompt = agent_payload(AgentSpec("a", "A", "Base.", None, {}, rules))["conversation_config"]["agent"]["prompt"]
    assert '- 1: the callee confirms (label "confirmed")' in prompt["prompt"]
    assert "- 9: the callee does not want to be called again" in prompt["prompt"]
    assert prompt["built_in_tools"]["play_keypad_touch_tone"] is None  # no menu navigation rules


def test_initiation_client_data_without_context():
    agent = AgentSpec("a", "A", "Base.", None, {}, {})
    assert initiation_client_data(CallRequest("c", "+14155550123", agent, None, {})) == {"dynamic_variables": {}}
