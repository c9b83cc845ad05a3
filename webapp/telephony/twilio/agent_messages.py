"""The ElevenLabs agent conversation socket's messages (wss://…/v1/convai/conversation).

Client → server: `conversation_initiation_client_data` first (fields at the top level),
then `{"user_audio_chunk": b64}` (a bare key), `pong`, `client_tool_result`,
`contextual_update`. Server → client: each type wraps its payload in `<name>_event`
(the tool call in `client_tool_call`)."""

from __future__ import annotations

import json

AUDIO_FORMAT = "ulaw_8000"


class AgentProtocolError(ValueError):
    """The agent socket said something we can't work with (bad frame, wrong audio format)."""


def initiation(dynamic_variables: dict, first_message: str | None = None) -> str:
    message: dict = {"type": "conversation_initiation_client_data", "dynamic_variables": dynamic_variables}
    if first_message:
        message["conversation_config_override"] = {"agent": {"first_message": first_message}}
    return json.dumps(message)


def user_audio(payload_b64: str) -> str:
    return '{"user_audio_chunk":' + json.dumps(payload_b64) + "}"  # every frame: no dict to build


def pong(event_id) -> str:
    return json.dumps({"type": "pong", "event_id": event_id})


def tool_result(tool_call_id: str, result: str, is_error: bool = False) -> str:
    return json.dumps(
        {"type": "client_tool_result", "tool_call_id": tool_call_id, "result": result, "is_error": is_error}
    )


def contextual_update(text: str) -> str:
    return json.dumps({"type": "contextual_update", "text": text})


def parse(raw) -> dict:
    try:
        message = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise AgentProtocolError("an agent socket frame is not JSON") from exc
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise AgentProtocolError("an agent socket frame has no type")
    return message


def event(message: dict) -> dict:
    """The payload of a server message: `<type>_event` (or `client_tool_call`)."""
    kind = message["type"]
    key = {"user_transcript": "user_transcription_event", "client_tool_call": "client_tool_call"}.get(
        kind, f"{kind}_event"
    )
    payload = message.get(key)
    return payload if isinstance(payload, dict) else {}


def check_formats(metadata: dict) -> None:
    """Audio passes through untouched only if the agent speaks and hears µ-law 8 kHz."""
    wrong = {
        name: metadata.get(name)
        for name in ("agent_output_audio_format", "user_input_audio_format")
        if metadata.get(name) != AUDIO_FORMAT
    }
    if wrong:
        detail = ", ".join(f"{name} is {value!r}" for name, value in wrong.items())
        raise AgentProtocolError(f"The agent must use {AUDIO_FORMAT} audio both ways ({detail})")
