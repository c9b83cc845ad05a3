"""Scripted phone conversations for the ElevenLabs emulator, rendered in the real API shapes.

A call's state is a function of its scenario and its timeline: in "polls" mode every
GET of the conversation moves it `step_seconds` forward (deterministic, for tests); in
"time" mode it follows the wall clock times `time_scale`.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field

# Documented test numbers (the same ones the simulated provider uses).
NO_ANSWER_NUMBER = "+15005550001"
BUSY_NUMBER = "+15005550002"
VOICEMAIL_NUMBER = "+15005550003"
SILENT_NUMBER = "+15005550007"  # the callee stops talking: the conversation ends on silence
UNKNOWN_ENDING_NUMBER = "+15005550008"  # ends with a termination text nobody has documented
SCENARIOS = {
    NO_ANSWER_NUMBER: "no_answer",
    BUSY_NUMBER: "busy",
    VOICEMAIL_NUMBER: "voicemail",
    SILENT_NUMBER: "silence",
    UNKNOWN_ENDING_NUMBER: "unknown_ending",
}
# termination_reason texts, as real conversations carry them
TERMINATION = {
    "end_call": "end_call tool was called.",
    "voicemail": "voicemail_detection tool was called.",
    "remote": "Call ended by remote party",
    "silence": "Silence timeout",
    "unknown_ending": "Non retryable error during text to speech",
}

RING_SECONDS = 1.0
NO_ANSWER_RING_SECONDS = 15.0
PROCESSING_SECONDS = 10.0


@dataclass
class ScriptTurn:
    role: str
    message: str | None
    time_in_call_secs: int
    tool: str | None = None
    tool_params: dict = field(default_factory=dict)


@dataclass
class EmulatedCall:
    conversation_id: str
    call_sid: str
    agent_id: str
    agent_name: str
    to_number: str
    from_number: str
    phone_number_id: str
    scenario: str
    first_message: str
    dynamic_variables: dict
    client_data: dict
    criteria_ids: list
    data_collection_ids: list
    missing_variables: dict = field(default_factory=dict)  # where -> names the call did not supply
    ringing_timeout_secs: int | None = None
    telephony_call_config: dict = field(default_factory=dict)
    voicemail_call_result: str = "answered"  # what phone_call.call_result says after a voicemail
    placed_at: float = field(default_factory=time.time)
    polls: int = 0
    ended_at: float | None = None  # call seconds at which the call was ended from outside
    cancelled: bool = False
    force_final: bool = False

    @property
    def script(self) -> list[ScriptTurn]:
        return build_script(self)


def new_id(prefix: str, length: int = 26) -> str:
    alphabet = "0123456789abcdefghjkmnpqrstvwxyz"
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def twilio_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def substitute(text: str, variables: dict) -> str:
    return re.sub(
        r"\{\{\s*([\w.]+)\s*\}\}",
        lambda m: str(variables.get(m.group(1), m.group(0))),
        text,
    )


def build_script(call: EmulatedCall) -> list[ScriptTurn]:
    if call.scenario == "voicemail":
        return [
            ScriptTurn(
                "user",
                "Hi, you've reached the voicemail of this number. Please leave a message after the tone.",
                0,
            ),
            ScriptTurn(
                "agent",
                None,
                6,
                tool="voicemail_detection",
                tool_params={"reason": "voicemail greeting"},
            ),
        ]
    name = call.dynamic_variables.get("customer_name") or call.dynamic_variables.get("name")
    if call.scenario == "silence":
        return [
            ScriptTurn("agent", call.first_message or "Hello, this is an automated assistant.", 0),
            ScriptTurn("user", "Hello?", 4),
            ScriptTurn("agent", "I'm calling about your recent request. Are you still there?", 8),
            ScriptTurn("agent", "It seems you're not there. I'll try again another time.", 20),
        ]
    return [
        ScriptTurn("agent", call.first_message or "Hello, this is an automated assistant.", 0),
        ScriptTurn(
            "user",
            f"Yes, this is {name}. What is this about?" if name else "Hello? Who is this?",
            4,
        ),
        ScriptTurn(
            "agent",
            "I'm calling about your recent request. Do you have a minute to confirm a few details?",
            8,
        ),
        ScriptTurn("user", "Sure, go ahead. Everything you have is correct.", 14),
        ScriptTurn(
            "agent",
            "Perfect, thank you for confirming. Have a great day, goodbye!",
            18,
            tool="end_call",
        ),
    ]


def script_length(call: EmulatedCall) -> float:
    script = call.script
    last = script[-1]
    words = len((last.message or "").split())
    return last.time_in_call_secs + max(2, words / 2.5)


def timeline(call: EmulatedCall, *, step_seconds: float, clock: str, time_scale: float) -> float:
    """Seconds since the call was placed, on the emulated clock."""
    if call.force_final:
        return 1e9
    if clock == "polls":
        return max(call.polls - 1, 0) * step_seconds
    return (time.time() - call.placed_at) * time_scale


def state(call: EmulatedCall, t: float) -> dict:
    """Where the call is at timeline second `t`: status, call seconds, result, termination."""
    if call.scenario == "busy":
        if t < RING_SECONDS:
            return {"status": "initiated", "seconds": 0}
        return {
            "status": "failed",
            "seconds": 0,
            "result": "busy",
            "termination": "Call failed: busy",
        }
    if call.missing_variables:  # the call rings, is answered, and ends before a word is said
        if t < RING_SECONDS:
            return {"status": "initiated", "seconds": 0}
        where, names = next(iter(call.missing_variables.items()))
        return {
            "status": "failed",
            "seconds": 0,
            "result": "failed",
            "termination": f"Missing required dynamic variables in {where}: {', '.join(names)}",
        }
    if call.scenario == "no_answer" and not call.cancelled:
        if t < (call.ringing_timeout_secs or NO_ANSWER_RING_SECONDS):
            return {"status": "initiated", "seconds": 0}
        return {
            "status": "failed",
            "seconds": 0,
            "result": "no_answer",
            "termination": "Call was not answered",
        }
    if call.cancelled:
        return {
            "status": "failed",
            "seconds": 0,
            "result": "failed",
            "termination": "Call canceled",
        }
    seconds = t - RING_SECONDS
    if seconds < 0:
        return {"status": "initiated", "seconds": 0}
    length = script_length(call)
    termination = TERMINATION.get(call.scenario, TERMINATION["end_call"])
    result = call.voicemail_call_result if call.scenario == "voicemail" else "answered"
    if call.ended_at is not None and call.ended_at < length:
        length, termination = call.ended_at, TERMINATION["remote"]
    if seconds < length:
        return {"status": "in-progress", "seconds": seconds}
    status = "processing" if seconds < length + PROCESSING_SECONDS else "done"
    return {
        "status": status,
        "seconds": length,
        "result": result,
        "termination": termination,
    }


def _turn_json(turn: ScriptTurn, index: int) -> dict:
    tool_calls = []
    if turn.tool:
        tool_calls.append(
            {
                "type": "system",
                "request_id": f"{turn.tool}_{index}",
                "tool_name": turn.tool,
                "params_as_json": json.dumps(turn.tool_params),
                "tool_has_been_called": True,
                "tool_details": None,
            }
        )
    return {
        "role": turn.role,
        "message": turn.message,
        "time_in_call_secs": turn.time_in_call_secs,
        "tool_calls": tool_calls,
        "tool_results": [],
        "feedback": None,
        "interrupted": False,
        "original_message": None,
        "source_medium": "audio",
    }


def _analysis(call: EmulatedCall, result: str) -> dict:
    answered = result == "answered" and call.scenario != "voicemail"
    verdict = "success" if answered else "failure"
    return {
        "evaluation_criteria_results": {
            cid: {
                "criteria_id": cid,
                "result": verdict,
                "rationale": "The callee confirmed the details.",
            }
            for cid in call.criteria_ids
        },
        "data_collection_results": {
            did: {
                "data_collection_id": did,
                "value": "confirmed" if answered else "not reached",
                "rationale": "Stated by the callee." if answered else "Nobody answered in person.",
            }
            for did in call.data_collection_ids
        },
        "call_successful": verdict,
        "transcript_summary": (
            "The agent reached the callee, who confirmed the details; the agent thanked them and ended the call."
            if answered
            else "The call reached a voicemail greeting and the agent ended the call without leaving a message."
        ),
        "call_summary_title": "Details confirmed" if answered else "Reached voicemail",
    }


def conversation_json(call: EmulatedCall, t: float) -> dict:
    """The GET /v1/convai/conversations/{id} body for this call at timeline second `t`."""
    now = state(call, t)
    status = now["status"]
    seconds = now["seconds"]
    turns = [
        _turn_json(turn, i)
        for i, turn in enumerate(call.script)
        if status not in ("initiated", "failed") and turn.time_in_call_secs <= seconds
    ]
    terminal = status in ("processing", "done", "failed")
    answered = status != "initiated" and now.get("result", "answered") in (
        "answered",
        "voicemail",
    )
    duration = round(seconds)
    metadata = {
        "start_time_unix_secs": int(call.placed_at),
        "accepted_time_unix_secs": int(call.placed_at) if answered else None,
        "call_duration_secs": duration,
        "cost": duration * 10 if terminal else None,  # credits
        "cost_fiat": round(duration * 0.0012, 6) if terminal else None,  # USD
        "termination_reason": now.get("termination", "") if terminal else "",
        "error": {"code": 1000, "reason": now["termination"]} if status == "failed" else None,
        "main_language": "en",
        "text_only": False,
        "phone_call": {
            "type": "twilio",
            "direction": "outbound",
            "phone_number_id": call.phone_number_id,
            "agent_number": call.from_number,
            "external_number": call.to_number,
            "call_result": now.get("result") if terminal else None,
            "stream_sid": "MZ" + call.call_sid[2:],
            "call_sid": call.call_sid,
        },
    }
    has_audio = status == "done" and duration > 0
    return {
        "agent_id": call.agent_id,
        "agent_name": call.agent_name,
        "conversation_id": call.conversation_id,
        "status": status,
        "user_id": None,
        "transcript": turns,
        "metadata": metadata,
        "analysis": _analysis(call, now.get("result", "answered")) if status == "done" else None,
        "conversation_initiation_client_data": call.client_data,
        "has_audio": has_audio,
        "has_user_audio": has_audio,
        "has_response_audio": has_audio,
        "has_auxiliary_audio": False,
    }


def fake_mp3(seconds: float) -> bytes:
    """Bytes that look like an MP3 file (ID3 header and MPEG frame headers), ~`seconds` long."""
    frame = b"\xff\xfb\x90\x64" + b"\x00" * 413  # 128 kbps, 44.1 kHz frame: 417 bytes, ~26 ms
    header = b"ID3\x04\x00\x00\x00\x00\x00\x00"
    return header + frame * max(1, int(seconds / 0.026))
