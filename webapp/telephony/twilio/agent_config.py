"""The ElevenLabs agent of a bridged call: the same agent as the `elevenlabs` provider's, but
Twilio-only system tools (keypad, transfer) become client tools the bridge carries out, and the
agent sends every event the bridge relays."""

from __future__ import annotations

import copy

from ..base import AgentSpec
from ..elevenlabs.agent_config import agent_payload, keypad_instructions

CLIENT_EVENTS = [
    "conversation_initiation_metadata",
    "audio",
    "interruption",
    "ping",
    "agent_response",
    "agent_response_correction",
    "user_transcript",
    "client_tool_call",
]
PRESS_KEYS = {
    "type": "client",
    "name": "press_keys",
    "description": "Press keys on the phone keypad (DTMF), e.g. to choose an option in an automated menu.",
    "expects_response": True,
    "response_timeout_secs": 20,
    "parameters": {
        "type": "object",
        "properties": {"digits": {"type": "string", "description": "Keys to press: 0-9, * and #; w waits 0.5 s"}},
        "required": ["digits"],
    },
}
TRANSFER_CALL = {
    "type": "client",
    "name": "transfer_call",
    "description": "Transfer the callee to a human colleague when they ask for one or press the transfer key.",
    "expects_response": True,
    "response_timeout_secs": 20,
    "parameters": {"type": "object", "properties": {}, "required": []},
}


def has_transfer(dtmf_rules: dict) -> bool:
    return any(rule.get("action") == "transfer" for rule in (dtmf_rules.get("inputs") or {}).values())


def bridged_agent_payload(agent: AgentSpec) -> dict:
    payload = copy.deepcopy(agent_payload(agent))
    dtmf_rules = agent.dtmf_rules or {}
    config = payload["conversation_config"]
    prompt = config["agent"]["prompt"]
    keypad = keypad_instructions(dtmf_rules)
    if keypad:
        bridged = keypad.replace("play_keypad_touch_tone tool", "press_keys tool").replace(
            "transfer_to_number tool", "transfer_call tool"
        )
        prompt["prompt"] = prompt["prompt"].replace(keypad, bridged)
    # answering machines are detected by Twilio (AMD); keys and transfers go through the bridge
    prompt["built_in_tools"] = {
        "end_call": prompt["built_in_tools"]["end_call"],
        "voicemail_detection": None,
        "play_keypad_touch_tone": None,
        "transfer_to_number": None,
    }
    prompt["tools"] = [PRESS_KEYS] + ([TRANSFER_CALL] if has_transfer(dtmf_rules) else [])
    config["conversation"] = {"client_events": CLIENT_EVENTS}
    return payload
