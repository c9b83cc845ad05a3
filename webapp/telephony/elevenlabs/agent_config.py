"""Request bodies for ElevenLabs Agents: the agent config built from an AgentSpec, and the
conversation initiation data of an outbound call."""

from __future__ import annotations

from ..base import AgentSpec, CallRequest
from ..dynamic_variables import values as variable_values

# ElevenLabs refuses non-English agents on English-only models, and English agents on v2.5.
DEFAULT_TTS_MODEL = {"en": "eleven_flash_v2"}
DEFAULT_TTS_MODEL_OTHER = "eleven_flash_v2_5"
TTS_SETTINGS = ("voice_id", "model_id", "stability", "similarity_boost", "speed")
TWILIO_AUDIO_FORMAT = "ulaw_8000"

# The overrides place_call may send. Sending an override that is not enabled here is an error
# (the call is refused), so the whitelist is pushed with every sync, and re-pushed and retried
# once when a call is refused for it (someone edited the agent in the ElevenLabs dashboard).
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
# One key is one answer: a short wait for more digits, "#" ends the input early.
DTMF_INPUT_SETTINGS = {"dtmf_input_timeout": 2.0, "hash_terminator": True, "redact_input": False}
# Twilio's answering-machine detection: the verdict comes back as the answering_machine_detection
# webhook; a fax is hung up on, a machine is left to the agent's voicemail tool.
MACHINE_DETECTION = {"mode": "enable", "actions": [{"action": "hang_up", "answered_by": ["fax"]}]}
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
    # Defaults for the {{variables}}: without one, a variable a call doesn't supply ends it.
    agent_config["dynamic_variables"] = {"dynamic_variable_placeholders": dict(agent.dynamic_variables or {})}
    return {
        "name": agent.name,
        "tags": [f"platform-agent:{agent.id}"],
        "conversation_config": {
            "agent": agent_config,
            "tts": tts_config(agent.voice_settings or {}, agent.language or "en"),
            "asr": {"user_input_audio_format": TWILIO_AUDIO_FORMAT},
            # Key presses reach the agent only with DTMF input configured.
            "dtmf_input_settings": DTMF_INPUT_SETTINGS if dtmf_rules.get("inputs") else None,
        },
        "platform_settings": {
            "overrides": OVERRIDES,
            "evaluation": {"criteria": [GOAL_CRITERION]},
            "data_collection": DATA_COLLECTION,
        },
    }


def initiation_client_data(request: CallRequest) -> dict:
    """The call's dynamic variables (the agent's defaults, then the task's context_data) and
    the task's starting message as a first-message override."""
    data: dict = {"dynamic_variables": variable_values(request.context_data, request.agent.dynamic_variables)}
    if request.starting_message:
        data["conversation_config_override"] = {"agent": {"first_message": request.starting_message}}
    return data


def telephony_call_config(agent: AgentSpec) -> dict:
    """`telephony_call_config` of an outbound call: answering-machine detection, ring timeout."""
    config: dict = {"twilio_machine_detection": MACHINE_DETECTION}
    if agent.ringing_timeout_secs:
        config["ringing_timeout_secs"] = int(agent.ringing_timeout_secs)
    return config
