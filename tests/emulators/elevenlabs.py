"""ElevenLabs Agents endpoints (agents, Twilio outbound calls, conversations, audio) and
signed post-call webhooks, in the shapes of the real API."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import time

import requests
from werkzeug.wrappers import Response

from tests.support import scaled

from .conversations import (
    SCENARIOS,
    EmulatedCall,
    conversation_json,
    fake_mp3,
    new_id,
    substitute,
    timeline,
    twilio_sid,
)
from .server import json_response

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
SYSTEM_TOOLS = {
    "end_call",
    "play_keypad_touch_tone",
    "voicemail_detection",
    "transfer_to_number",
    "transfer_to_agent",
    "language_detection",
    "skip_turn",
}


def _detail(status, message, code):
    return json_response({"detail": {"status": status, "message": message}}, code)


def _unprocessable(loc, msg):
    return json_response({"detail": [{"loc": ["body", *loc], "msg": msg, "type": "value_error"}]}, 422)


def _deep_merge(base: dict, patch: dict) -> dict:
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
AMD_VERDICTS = {"human", "fax", "unknown", "machine_start", "machine_end_beep", "machine_end_silence",
                "machine_end_other"}  # fmt: skip


def _used_variables(text: str | None) -> list[str]:
    return [name for name in dict.fromkeys(PLACEHOLDER.findall(text or "")) if not name.startswith("system__")]


def _validate_agent(body: dict):
    """422 for the mistakes the real API refuses; None when the body is acceptable."""
    config = body.get("conversation_config") or {}
    placeholders = ((config.get("agent") or {}).get("dynamic_variables") or {}).get("dynamic_variable_placeholders")
    for name, value in (placeholders or {}).items():
        if not isinstance(value, (str, int, float, bool)):
            loc = ["conversation_config", "agent", "dynamic_variables", "dynamic_variable_placeholders", name]
            return _unprocessable(loc, "Input should be a valid string, integer, number or boolean")
    dtmf = config.get("dtmf_input_settings")
    if dtmf is not None:
        unknown = set(dtmf) - {"dtmf_input_timeout", "hash_terminator", "redact_input"}
        if unknown:
            return _unprocessable(["conversation_config", "dtmf_input_settings", sorted(unknown)[0]],
                                  "Extra inputs are not permitted")  # fmt: skip
    tts = config.get("tts") or {}
    for name, low, high in (
        ("stability", 0, 1),
        ("similarity_boost", 0, 1),
        ("speed", 0.7, 1.2),
    ):
        value = tts.get(name)
        if value is not None and not low <= value <= high:
            return _unprocessable(
                ["conversation_config", "tts", name],
                f"must be between {low} and {high}",
            )
    tools = ((config.get("agent") or {}).get("prompt") or {}).get("built_in_tools") or {}
    for key, tool in tools.items():
        if tool is None:
            continue
        loc = ["conversation_config", "agent", "prompt", "built_in_tools", key]
        if key not in SYSTEM_TOOLS:
            return _unprocessable(loc, "unknown built-in tool")
        params = tool.get("params") or {}
        if tool.get("type") != "system" or not tool.get("name") or params.get("system_tool_type") != key:
            return _unprocessable(loc, "expected {type: system, name, params{system_tool_type: <key>}}")
        if key == "transfer_to_number":
            for transfer in params.get("transfers") or []:
                dest = transfer.get("transfer_destination") or {}
                if dest.get("type") != "phone" or not E164.match(dest.get("phone_number", "")):
                    return _unprocessable(
                        loc + ["transfers"],
                        "transfer_destination must be a phone number",
                    )
                if not transfer.get("condition"):
                    return _unprocessable(loc + ["transfers", "condition"], "Field required")
    return None


class ElevenLabsMixin:
    api_key: str
    phone_number_id: str
    agent_number: str
    webhook_secret: str
    step_seconds: float
    clock: str
    time_scale: float

    def _init_elevenlabs(self):
        self.agent_sockets = None  # an AgentSocketEmulator, for bridged (Twilio) calls
        self.agents: dict[str, dict] = {}
        self.calls: dict[str, EmulatedCall] = {}  # by conversation_id
        # phone_call.call_result after the agent's voicemail tool ended a call: real conversations
        # often say "answered" (only the tool call and termination_reason tell)
        self.voicemail_call_result = "answered"

    # -- helpers for tests ---------------------------------------------------------------
    def call_by_sid(self, call_sid):
        return next((c for c in self.calls.values() if c.call_sid == call_sid), None)

    def finish(self, conversation_id):
        """Jump a conversation to its final state (as if it ended and its analysis is done)."""
        with self._lock:
            self.calls[conversation_id].force_final = True

    def conversation(self, conversation_id, *, advance=False) -> dict:
        call = self.calls[conversation_id]
        with self._lock:
            if advance:
                call.polls += 1
            t = timeline(
                call,
                step_seconds=self.step_seconds,
                clock=self.clock,
                time_scale=self.time_scale,
            )
            return conversation_json(call, t)

    # -- routes --------------------------------------------------------------------------
    def _check_key(self, request):
        if request.headers.get("xi-api-key") != self.api_key:
            return _detail("invalid_api_key", "Invalid API key", 401)
        return None

    def el_create_agent(self, request, payload):
        if not isinstance(payload, dict) or "conversation_config" not in payload:
            return _unprocessable(["conversation_config"], "Field required")
        error = _validate_agent(payload)
        if error:
            return error
        agent_id = new_id("agent_")
        self.agents[agent_id] = {
            "agent_id": agent_id,
            "name": payload.get("name") or "",
            "conversation_config": copy.deepcopy(payload["conversation_config"]),
            "platform_settings": copy.deepcopy(payload.get("platform_settings") or {}),
            "tags": list(payload.get("tags") or []),
            "metadata": {
                "created_at_unix_secs": int(time.time()),
                "updated_at_unix_secs": int(time.time()),
            },
            "phone_numbers": [],
        }
        return json_response({"agent_id": agent_id})

    def el_list_agents(self, request, payload):
        """GET /v1/convai/agents: newest first, `page_size` (1-100) and `cursor` (an offset here)."""
        try:
            page_size = int(request.args.get("page_size", 30))
            start = int(request.args.get("cursor") or 0)
        except ValueError:
            return _unprocessable(["query", "page_size"], "Input should be a valid integer")
        if not 1 <= page_size <= 100:
            return _unprocessable(["query", "page_size"], "Input should be between 1 and 100")
        agents = sorted(self.agents.values(), key=lambda a: a["metadata"]["created_at_unix_secs"], reverse=True)
        page = agents[start : start + page_size]
        more = start + page_size < len(agents)
        summaries = [
            {
                "agent_id": agent["agent_id"],
                "name": agent["name"],
                "voice_id": (agent["conversation_config"].get("tts") or {}).get("voice_id") or "cjVigY5qzO86Huf0OWal",
                "tags": agent["tags"],
                "created_at_unix_secs": agent["metadata"]["created_at_unix_secs"],
                "updated_at_unix_secs": agent["metadata"]["updated_at_unix_secs"],
                "access_info": {
                    "is_creator": True,
                    "creator_name": "Emulator",
                    "creator_email": "emulator@example.com",
                    "role": "admin",
                },  # fmt: skip
                "last_call_time_unix_secs": None,
                "archived": False,
            }
            for agent in page
        ]
        return json_response({"agents": summaries, "next_cursor": str(start + page_size) if more else None,
                              "has_more": more})  # fmt: skip

    def el_agent(self, request, payload, agent_id):
        agent = self.agents.get(agent_id)
        if agent is None:
            return _detail("agent_not_found", f"Agent with id {agent_id} not found", 404)
        if request.method == "PATCH":
            if not isinstance(payload, dict):
                return _unprocessable([], "Expected a JSON object")
            candidate = _deep_merge(
                copy.deepcopy(agent),
                {k: v for k, v in payload.items() if v is not None},
            )
            error = _validate_agent(candidate)
            if error:
                return error
            candidate["metadata"]["updated_at_unix_secs"] = int(time.time())
            self.agents[agent_id] = candidate
            agent = candidate
        return json_response(agent)

    def el_outbound_call(self, request, payload):
        payload = payload if isinstance(payload, dict) else {}
        for name in ("agent_id", "agent_phone_number_id", "to_number"):
            if not isinstance(payload.get(name), str):
                return _unprocessable([name], "Field required")
        agent = self.agents.get(payload["agent_id"])
        if agent is None:
            return _detail("agent_not_found", f"Agent with id {payload['agent_id']} not found", 404)
        if payload["agent_phone_number_id"] != self.phone_number_id:
            return _detail("phone_number_not_found", "Phone number not found", 404)
        client_data = payload.get("conversation_initiation_client_data") or {}
        variables = client_data.get("dynamic_variables") or {}
        for key, value in variables.items():
            if not isinstance(value, (str, int, float, bool)):
                return _unprocessable(
                    ["conversation_initiation_client_data", "dynamic_variables", key],
                    "Invalid type",
                )
        override = client_data.get("conversation_config_override") or {}
        allowed = ((agent["platform_settings"].get("overrides") or {}).get("conversation_config_override")) or {}
        for section, fields in override.items():
            for name in fields or {}:
                if name == "prompt":
                    ok = ((allowed.get(section) or {}).get("prompt") or {}).get("prompt")
                else:
                    ok = (allowed.get(section) or {}).get(name)
                if not ok:
                    message = f"Override for field '{name}' is not allowed by config."
                    return json_response(
                        {
                            "success": False,
                            "message": message,
                            "conversation_id": None,
                            "callSid": None,
                        }
                    )
        telephony = payload.get("telephony_call_config") or {}
        ringing = telephony.get("ringing_timeout_secs")
        if ringing is not None and (not isinstance(ringing, int) or isinstance(ringing, bool) or ringing <= 0):
            return _unprocessable(["telephony_call_config", "ringing_timeout_secs"], "Input should be a valid integer")
        detection = telephony.get("twilio_machine_detection")
        if detection is not None:
            if detection.get("mode") not in (None, "enable", "detect_message_end"):
                return _unprocessable(["telephony_call_config", "twilio_machine_detection", "mode"], "Invalid mode")
            for rule in detection.get("actions") or []:
                if rule.get("action", "hang_up") != "hang_up" or not set(rule.get("answered_by") or []) <= AMD_VERDICTS:
                    return _unprocessable(["telephony_call_config", "twilio_machine_detection", "actions"],
                                          "Invalid action or verdict")  # fmt: skip
        to_number = payload["to_number"]
        if not E164.match(to_number):
            message = f"Failed to create Twilio call: The 'To' number {to_number} is not a valid phone number."
            return json_response(
                {
                    "success": False,
                    "message": message,
                    "conversation_id": None,
                    "callSid": None,
                }
            )
        agent_config = agent["conversation_config"].get("agent") or {}
        first_message = (override.get("agent") or {}).get("first_message") or agent_config.get("first_message") or ""
        prompt = ((override.get("agent") or {}).get("prompt") or {}).get("prompt") or (
            agent_config.get("prompt") or {}
        ).get("prompt")
        defaults = (agent_config.get("dynamic_variables") or {}).get("dynamic_variable_placeholders") or {}
        variables = {**defaults, **variables}
        # A variable with no value and no default: the conversation can't start (it fails at once).
        missing = {
            where: names
            for where, text in (("first message", first_message), ("prompt", prompt))
            if (names := [n for n in _used_variables(text) if n not in variables])
        }
        platform = agent["platform_settings"]
        call = EmulatedCall(
            conversation_id=new_id("conv_"),
            call_sid=twilio_sid("CA"),
            agent_id=agent["agent_id"],
            agent_name=agent["name"],
            to_number=to_number,
            from_number=self.agent_number,
            phone_number_id=self.phone_number_id,
            scenario=SCENARIOS.get(to_number, "normal"),
            first_message=substitute(first_message, variables),
            dynamic_variables=variables,
            client_data=client_data,
            criteria_ids=[c["id"] for c in ((platform.get("evaluation") or {}).get("criteria") or [])],
            data_collection_ids=list((platform.get("data_collection") or {}).keys()),
            missing_variables=missing,
            ringing_timeout_secs=ringing,
            telephony_call_config=telephony,
            voicemail_call_result=self.voicemail_call_result,
        )
        self.calls[call.conversation_id] = call
        return json_response(
            {
                "success": True,
                "message": "Success",
                "conversation_id": call.conversation_id,
                "callSid": call.call_sid,
            }
        )

    def el_signed_url(self, request, payload):
        """A signed URL for the conversation socket (served by `self.agent_sockets`)."""
        agent_id = request.args.get("agent_id", "")
        if agent_id not in self.agents:
            return _detail("agent_not_found", "Agent not found", 404)
        if self.agent_sockets is None:
            return _detail("internal_error", "No conversation socket in this emulator", 500)
        return json_response({"signed_url": self.agent_sockets.signed_url(agent_id)})

    def el_conversation(self, request, payload, conversation_id):
        bridged = self.agent_sockets.conversation_json(conversation_id) if self.agent_sockets else None
        if bridged is not None:
            return json_response(bridged)
        if conversation_id not in self.calls:
            return _detail("conversation_not_found", "Conversation not found", 404)
        return json_response(self.conversation(conversation_id, advance=True))

    def el_audio(self, request, payload, conversation_id):
        if conversation_id not in self.calls:
            return _detail("conversation_not_found", "Conversation not found", 404)
        data = self.conversation(conversation_id)
        if not data["has_audio"]:
            return _detail("audio_not_found", "Audio not found for this conversation", 404)
        return Response(fake_mp3(data["metadata"]["call_duration_secs"]), mimetype="audio/mpeg")

    # -- post-call webhooks --------------------------------------------------------------
    def elevenlabs_webhook_payload(self, kind, conversation_id, *, failure_reason=None, answered_by=None) -> dict:
        call = self.calls[conversation_id]
        if kind == "answering_machine_detection":
            # Sent only when the call asked for twilio_machine_detection (and the event is enabled).
            data = {
                "agent_id": call.agent_id,
                "conversation_id": conversation_id,
                "call_sid": call.call_sid,
                "answered_by": answered_by or ("machine_end_beep" if call.scenario == "voicemail" else "human"),
                "machine_detection_duration_ms": 3120,
            }
            return {"type": kind, "event_timestamp": int(time.time()), "data": data}
        if kind == "post_call_transcription":
            data = self.conversation(conversation_id)
        elif kind == "post_call_audio":
            audio = fake_mp3(
                max(
                    self.conversation(conversation_id)["metadata"]["call_duration_secs"],
                    1,
                )
            )
            data = {
                "agent_id": call.agent_id,
                "conversation_id": conversation_id,
                "full_audio": base64.b64encode(audio).decode(),
            }
        elif kind == "call_initiation_failure":
            reason = failure_reason or {"busy": "busy", "no_answer": "no-answer"}.get(call.scenario, "unknown")
            twilio_status = {"busy": "busy", "no-answer": "no-answer"}.get(reason, "failed")
            data = {
                "agent_id": call.agent_id,
                "conversation_id": conversation_id,
                "failure_reason": reason,
                "metadata": {
                    "type": "twilio",
                    "body": {
                        "CallSid": call.call_sid,
                        "CallStatus": twilio_status,
                        "To": call.to_number,
                        "From": call.from_number,
                        "Direction": "outbound-api",
                        "SipResponseCode": {"busy": "486", "no-answer": "487"}.get(reason, "500"),
                        "Timestamp": time.strftime("%a, %d %b %Y %H:%M:%S +0000", time.gmtime()),
                    },
                },
            }
        else:
            raise ValueError(f"unknown webhook kind {kind!r}")
        return {"type": kind, "event_timestamp": int(time.time()), "data": data}

    def sign_elevenlabs(self, body: bytes, *, secret=None, timestamp=None) -> str:
        timestamp = int(time.time()) if timestamp is None else int(timestamp)
        key = (secret or self.webhook_secret).encode()
        digest = hmac.new(key, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
        return f"t={timestamp},v0={digest}"

    def build_elevenlabs_webhook(
        self, kind, conversation_id, *, secret=None, timestamp=None, failure_reason=None, answered_by=None
    ):
        """(raw body, headers) of a signed post-call webhook, as ElevenLabs sends it."""
        payload = self.elevenlabs_webhook_payload(
            kind, conversation_id, failure_reason=failure_reason, answered_by=answered_by
        )
        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "ElevenLabs-Signature": self.sign_elevenlabs(body, secret=secret, timestamp=timestamp),
        }
        return body, headers

    def send_elevenlabs_webhook(self, url, kind, conversation_id, **kwargs) -> requests.Response:
        """POST a signed post-call webhook to `url` (e.g. our app's receiver)."""
        body, headers = self.build_elevenlabs_webhook(kind, conversation_id, **kwargs)
        return requests.post(url, data=body, headers=headers, timeout=scaled(10))
