"""Pure mapping rules of the ElevenLabs provider: conversation objects and request bodies."""

from __future__ import annotations

import pytest

from webapp.telephony.base import AgentSpec, CallRequest
from webapp.telephony.dynamic_variables import flatten as flatten_dynamic_variables
from webapp.telephony.elevenlabs.agent_config import agent_payload, initiation_client_data
from webapp.telephony.elevenlabs.conversation import snapshot


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
        ("end_call tool was called.", ("completed", "ended_by_agent", None)),
        ("transfer_to_number tool was called.", ("completed", "transferred", None)),
        ("Call ended by remote party", ("completed", "ended_by_callee", None)),
        ("Client disconnected: 1000", ("completed", "ended_by_callee", None)),
        ("Client disconnected: 1006", ("failed", None, "dropped")),
        ("Silence timeout", ("completed", "silence_timeout", None)),
        ("inactivity timeout", ("completed", "silence_timeout", None)),
        ("Conversation ended due to user inactivity.", ("completed", "silence_timeout", None)),
        ("Maximum duration exceeded", ("completed", "max_duration", None)),
        ("voicemail_detection tool was called.", ("failed", None, "voicemail")),
        ("Agent ended the call", ("completed", "other", None)),  # not a documented text: not guessed
        ("Something new happened", ("completed", "other", None)),
        ("", ("completed", "other", None)),
        (None, ("completed", "other", None)),
    ],
)
def test_ending_from_termination_reason(termination, expected):
    snap = snapshot(conversation("done", "answered", termination))
    assert (snap.status, snap.end_reason, snap.failure_reason) == expected
    assert snap.termination_reason == (termination or None)  # kept verbatim


def test_voicemail_from_the_tool_call_even_when_call_result_says_answered():
    transcript = [
        {"role": "user", "message": "Leave a message after the tone.", "time_in_call_secs": 0},
        {"role": "agent", "message": None, "time_in_call_secs": 5,
         "tool_calls": [{"tool_name": "voicemail_detection", "params_as_json": "{}"}]},
    ]  # fmt: skip
    snap = snapshot(conversation("done", "answered", "Call ended by remote party", transcript=transcript))
    assert (snap.status, snap.failure_reason) == ("failed", "voicemail")


def test_voicemail_from_a_machine_verdict():
    snap = snapshot(conversation("done", "answered", "Client disconnected: 1000"), answered_by="machine_end_beep")
    assert (snap.status, snap.failure_reason) == ("failed", "voicemail")
    assert {"type": "answering_machine_detection", "answered_by": "machine_end_beep"} in snap.events
    human = snapshot(conversation("done", "answered", "Client disconnected: 1000"), answered_by="human")
    assert (human.status, human.end_reason) == ("completed", "ended_by_callee")


def test_cost_in_credits_and_usd():
    snap = snapshot(conversation("done", cost=126, cost_fiat=0.025))
    assert (snap.cost_credits, snap.cost_usd) == (126.0, 0.025)


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
    assert snap.end_reason == ("other" if expected[0] == "completed" else None)


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
