"""Request bodies for ElevenLabs Agents: the agent config built from an AgentSpec, and the
conversation initiation data of an outbound call."""

from __future__ import annotations

import json
import math
import re

from ..base import AgentSpec, CallRequest

# ElevenLabs refuses non-English agents on English-only models, and English agents on v2.5.
DEFAULT_TTS_MODEL = {"en": "eleven_flash_v2"}
DEFAULT_TTS_MODEL_OTHER = "eleven_flash_v2_5"
TTS_SETTINGS = ("voice_id", "model_id", "stability", "similarity_boost", "speed")
TWILIO_AUDIO_FORMAT = "ulaw_8000"

# The overrides place_call may send; ElevenLabs ignores any override not enabled here.
OVERRIDES = {
    "conversation_config_override": {
        "agent": {"first_message": True, "language": True, "prompt": {"prompt": True}},
        "tts": {
            "voice_id": True,
            "stability": True,
            "speed": True,
            "similarity_boost": True,
        },
    }
}
GOAL_CRITERION = {
    "id": "goal_achieved",
    "name": "Goal achieved",
    "type": "prompt",
    "conversation_goal_prompt": (
        "The agent accomplished the purpose of the call described in its instructions: it reached "
        "the intended person and got the confirmation, answer or information it called for."
    ),
}
DATA_COLLECTION = {
    "callee_outcome": {
        "type": "string",
        "description": (
            "One short phrase for how the call ended for the callee: confirmed, declined, opted out, "
            "asked to call back, transferred, not reached, or other."
        ),
    }
}
ACTION_TEXT = {
    "confirm": "the callee confirms",
    "decline": "the callee declines",
    "opt_out": "the callee does not want to be called again: acknowledge it politely and end the call",
    "end_call": "the callee wants to end the call: say goodbye and end the call",
    "transfer": "transfer the call to {to_number} with the transfer_to_number tool",
    "label": "record the answer",
}


def system_tool(key: str, **params) -> dict:
    return {
        "type": "system",
        "name": key,
        "params": {"system_tool_type": key, **params},
    }


def _transfers(dtmf_rules: dict) -> list[dict]:
    transfers = []
    for digit, rule in sorted((dtmf_rules.get("inputs") or {}).items()):
        if rule.get("action") == "transfer" and rule.get("to_number"):
            transfers.append(
                {
                    "transfer_destination": {
                        "type": "phone",
                        "phone_number": rule["to_number"],
                    },
                    "condition": f"The callee pressed {digit} on the keypad or asked to be transferred.",
                    "transfer_type": "conference",
                }
            )
    return transfers


def built_in_tools(dtmf_rules: dict) -> dict:
    """Tools always on (end_call, voicemail_detection) and those the DTMF rules need; the
    others are sent as null so that an update turns them off."""
    transfers = _transfers(dtmf_rules)
    return {
        "end_call": system_tool("end_call"),
        "voicemail_detection": system_tool("voicemail_detection"),
        "play_keypad_touch_tone": system_tool("play_keypad_touch_tone") if dtmf_rules.get("navigation") else None,
        "transfer_to_number": system_tool("transfer_to_number", transfers=transfers) if transfers else None,
    }


def keypad_instructions(dtmf_rules: dict) -> str:
    """The part of the system prompt that tells the agent what to do with the keypad."""
    lines = []
    navigation = dtmf_rules.get("navigation") or []
    if navigation:
        lines.append(
            "If you reach an automated phone menu, do not speak to it: press keys with the "
            "play_keypad_touch_tone tool, following these rules:"
        )
        for rule in navigation:
            lines.append(f'- when the menu says "{rule.get("when", "")}", press {rule.get("press", "")}')
    inputs = dtmf_rules.get("inputs") or {}
    if inputs:
        lines.append("If the callee presses a key on their phone:")
        for digit, rule in sorted(inputs.items()):
            action = ACTION_TEXT.get(rule.get("action"), "note it").format(to_number=rule.get("to_number", ""))
            label = f' (label "{rule["label"]}")' if rule.get("label") else ""
            lines.append(f"- {digit}: {action}{label}")
    return "\n".join(lines)


def tts_config(voice_settings: dict, language: str) -> dict:
    tts = {key: voice_settings[key] for key in TTS_SETTINGS if voice_settings.get(key) is not None}
    tts.setdefault("model_id", DEFAULT_TTS_MODEL.get(language, DEFAULT_TTS_MODEL_OTHER))
    tts["agent_output_audio_format"] = TWILIO_AUDIO_FORMAT
    return tts


def agent_payload(agent: AgentSpec) -> dict:
    """Keyword arguments for agents.create / agents.update."""
    dtmf_rules = agent.dtmf_rules or {}
    prompt = agent.system_prompt
    keypad = keypad_instructions(dtmf_rules)
    if keypad:
        prompt = f"{prompt}\n\n# Phone keypad\n{keypad}"
    agent_config = {
        "language": agent.language or "en",
        "prompt": {"prompt": prompt, "built_in_tools": built_in_tools(dtmf_rules)},
    }
    if agent.starting_message:
        agent_config["first_message"] = agent.starting_message
    return {
        "name": agent.name,
        "tags": [f"platform-agent:{agent.id}"],
        "conversation_config": {
            "agent": agent_config,
            "tts": tts_config(agent.voice_settings or {}, agent.language or "en"),
            "asr": {"user_input_audio_format": TWILIO_AUDIO_FORMAT},
        },
        "platform_settings": {
            "overrides": OVERRIDES,
            "evaluation": {"criteria": [GOAL_CRITERION]},
            "data_collection": DATA_COLLECTION,
        },
    }


def _variable_name(name: str) -> str:
    return re.sub(r"[^0-9A-Za-z_]", "_", name)


def flatten_dynamic_variables(data: dict, prefix: str = "") -> dict:
    """context_data as ElevenLabs dynamic variables: nested keys joined with "_", values
    str/int/float/bool (lists and other values become text, None becomes "")."""
    flat: dict = {}
    for key, value in (data or {}).items():
        name = _variable_name(f"{prefix}_{key}" if prefix else str(key))
        if isinstance(value, dict):
            flat.update(flatten_dynamic_variables(value, name))
        elif isinstance(value, bool | int | str):
            flat[name] = value
        elif isinstance(value, float):
            flat[name] = value if math.isfinite(value) else str(value)
        elif value is None:
            flat[name] = ""
        elif isinstance(value, list | tuple) and all(isinstance(v, str | int | float) for v in value):
            flat[name] = ", ".join(str(v) for v in value)
        else:
            flat[name] = json.dumps(value, default=str)
    return flat


def initiation_client_data(request: CallRequest) -> dict:
    data: dict = {"dynamic_variables": flatten_dynamic_variables(request.context_data)}
    if request.starting_message:
        data["conversation_config_override"] = {"agent": {"first_message": request.starting_message}}
    return data
