"""An emulator of the ElevenLabs agent conversation socket (wss://…/v1/convai/conversation).

It speaks the real message shapes (initiation metadata, audio in chunks with event ids,
interruptions, pings, agent responses, user transcripts, client tool calls, end) and checks
what the client sends the way the real service would refuse it: the first message must be a
top-level `conversation_initiation_client_data`, audio is a bare `user_audio_chunk` of valid
base64, every ping needs a pong with its event id in time, frames must be JSON with a known
type. Each violation is recorded in `errors` and closes the socket (1008), so a test can fail
on it. Conversations follow a per-agent script (a function of a `Conversation`).

    sockets = AgentSocketEmulator(secret).start()
    sockets.scripts[agent_id] = lambda c: (c.say("Hello!"), c.hear("Hi."), c.end())
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
import socket
import threading
import time
import uuid

from flask import Flask, request
from flask_sock import Sock
from simple_websocket import ConnectionClosed
from werkzeug.serving import make_server

from webapp.telephony.twilio import mulaw

PLACEHOLDER = re.compile(r"{{\s*([A-Za-z0-9_]+)\s*}}")
CHUNK_BYTES = 1600  # 200 ms of µ-law per audio event chunk
SPEECH_LEVEL = 400  # mean |sample| above this is speech
CLIENT_MESSAGE_TYPES = {
    "conversation_initiation_client_data",
    "pong",
    "client_tool_result",
    "contextual_update",
    "user_message",
    "user_activity",
}
INITIATION_FIELDS = {
    "type",
    "dynamic_variables",
    "conversation_config_override",
    "custom_llm_extra_body",
    "user_id",
    "source_info",
}


class ScriptError(Exception):
    """The client broke the protocol; the conversation stops."""


def tone(seconds: float, frequency: float = 440.0) -> bytes:
    """Speech stand-in: a tone at speaking level."""
    count = int(8000 * seconds)
    return mulaw.encode(int(6000 * math.sin(2 * math.pi * frequency * n / 8000)) for n in range(count))


def spoken_seconds(text: str) -> float:
    return max(len(text.split()), 1) / 2.5


class Conversation:
    """One conversation socket; scripts call these methods in order."""

    def __init__(self, emulator: AgentSocketEmulator, ws, agent_id: str, audio_format: str):
        self.emulator = emulator
        self.ws = ws
        self.agent_id = agent_id
        self.id = "conv_" + uuid.uuid4().hex[:20]
        self.audio_format = audio_format
        self.started = time.monotonic()
        self.transcript: list[dict] = []
        self.initiation: dict | None = None
        self.contextual_updates: list[str] = []
        self.tool_results: dict[str, dict] = {}
        self.audio_chunks = 0
        self.speech_frames = 0  # consecutive loud chunks heard
        self.silent_frames = 0
        self.utterances = 0  # callee utterances heard so far (speech then silence)
        self.next_event_id = 1
        self.ping_outstanding: dict[int, float] = {}
        self.closed = False
        self.ended_by = None
        self.condition = threading.Condition()
        self.send_lock = threading.Lock()

    # -- sending ---------------------------------------------------------------------------
    def send(self, message: dict) -> None:
        with self.send_lock:
            self.ws.send(json.dumps(message))

    def _event_id(self) -> int:
        self.next_event_id += 1
        return self.next_event_id

    def _log(self, role: str, text: str) -> None:
        self.transcript.append(
            {"role": role, "message": text, "time_in_call_secs": round(time.monotonic() - self.started)}
        )

    def say(self, text: str, *, interruptible: bool = False, late_chunks: int = 2) -> bool:
        """Speak `text`: agent_response, then its audio in 200 ms chunks sent about twice real
        time. With `interruptible`, callee speech mid-sentence makes it stop with an
        `interruption` (then `late_chunks` chunks of the interrupted audio arrive anyway, as
        they do from the real service). Returns False when interrupted."""
        event_id = self._event_id()
        self._log("agent", text)
        self.send({"type": "agent_response", "agent_response_event": {"agent_response": text}})
        audio = tone(spoken_seconds(text))
        heard_before = self.utterances_started()
        chunks = [audio[i : i + CHUNK_BYTES] for i in range(0, len(audio), CHUNK_BYTES)]
        for index, chunk in enumerate(chunks):
            if interruptible and self.utterances_started() > heard_before:
                self.send({"type": "interruption", "interruption_event": {"event_id": event_id}})
                for late in chunks[index : index + late_chunks]:
                    self._audio(late, event_id)
                return False
            self._audio(chunk, event_id)
            time.sleep(0.1)
        return True

    def _audio(self, chunk: bytes, event_id: int) -> None:
        self.send({"type": "audio", "audio_event": {"audio_base_64": base64.b64encode(chunk).decode(),
                                                     "event_id": event_id}})  # fmt: skip

    def utterances_started(self) -> int:
        with self.condition:
            return self.utterances + (1 if self.speech_frames >= 2 else 0)

    def hear(self, text: str, timeout: float = 15.0) -> None:
        """Wait for the callee's next utterance to end, then send its transcript."""
        with self.condition:
            target = self.utterances + 1
            if not self.condition.wait_for(lambda: self.utterances >= target or self.closed, timeout):
                raise ScriptError(f"the callee never said {text!r}")
        self.user_said(text)

    def user_said(self, text: str) -> None:
        self._log("user", text)
        self.send({"type": "user_transcript", "user_transcription_event": {"user_transcript": text}})

    def ping(self, timeout: float = 1.0) -> None:
        """A ping that must be answered with its event id within `timeout`."""
        event_id = self._event_id()
        with self.condition:
            self.ping_outstanding[event_id] = time.monotonic()
        self.send({"type": "ping", "ping_event": {"event_id": event_id, "ping_ms": 40}})
        with self.condition:
            if not self.condition.wait_for(lambda: event_id not in self.ping_outstanding or self.closed, timeout):
                raise ScriptError(f"no pong for ping {event_id} within {timeout} s")

    def tool(self, name: str, parameters: dict, timeout: float = 10.0) -> dict:
        call_id = "toolu_" + uuid.uuid4().hex[:12]
        self.send({"type": "client_tool_call", "client_tool_call": {"tool_name": name, "tool_call_id": call_id,
                                                                    "parameters": parameters}})  # fmt: skip
        with self.condition:
            if not self.condition.wait_for(lambda: call_id in self.tool_results or self.closed, timeout):
                raise ScriptError(f"no client_tool_result for {name}")
            return self.tool_results.get(call_id, {})

    def wait_context(self, contains: str, timeout: float = 15.0) -> str:
        with self.condition:
            found = self.condition.wait_for(
                lambda: any(contains in text for text in self.contextual_updates) or self.closed, timeout
            )
        if not found or self.closed:
            raise ScriptError(f"no contextual_update containing {contains!r}")
        return next(text for text in self.contextual_updates if contains in text)

    def wait_closed(self, timeout: float = 30.0) -> None:
        with self.condition:
            self.condition.wait_for(lambda: self.closed, timeout)

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)

    def fill(self, text: str) -> str:
        """{{name}} placeholders from the dynamic variables; a missing one ends the conversation
        as the real service does."""
        variables = self.initiation.get("dynamic_variables") or {}
        missing = [name for name in PLACEHOLDER.findall(text) if name not in variables]
        if missing:
            raise ScriptError(f"Missing required dynamic variables in first message: {missing}")
        return PLACEHOLDER.sub(lambda m: str(variables[m.group(1)]), text)

    def end(self) -> None:
        """The agent's end_call: the service closes the socket normally."""
        self.ended_by = "agent"
        time.sleep(0.05)
        self.ws.close(1000, "end_call")

    def drop(self) -> None:
        """The connection breaks: no close frame."""
        self.ended_by = "drop"
        try:
            self.ws.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.ws.connected = False

    # -- receiving -------------------------------------------------------------------------
    def receive(self, raw) -> None:
        try:
            message = json.loads(raw)
        except (TypeError, ValueError):
            raise ScriptError("a frame is not JSON") from None
        if not isinstance(message, dict):
            raise ScriptError("a frame is not a JSON object")
        if self.initiation is None:
            self._initiation(message)
            return
        if "user_audio_chunk" in message:
            self._user_audio(message)
            return
        kind = message.get("type")
        if kind not in CLIENT_MESSAGE_TYPES or kind == "conversation_initiation_client_data":
            raise ScriptError(f"unexpected client message {kind!r}")
        with self.condition:
            if kind == "pong":
                if message.get("event_id") not in self.ping_outstanding:
                    raise ScriptError(f"pong for an unknown ping {message.get('event_id')!r}")
                del self.ping_outstanding[message["event_id"]]
            elif kind == "client_tool_result":
                self.tool_results[message.get("tool_call_id")] = message
            elif kind == "contextual_update":
                if not isinstance(message.get("text"), str):
                    raise ScriptError("contextual_update without text")
                self.contextual_updates.append(message["text"])
            self.condition.notify_all()

    def _initiation(self, message: dict) -> None:
        if message.get("type") != "conversation_initiation_client_data":
            raise ScriptError("the first message must be conversation_initiation_client_data")
        unknown = set(message) - INITIATION_FIELDS
        if unknown:
            raise ScriptError(f"unknown initiation fields (nested?): {sorted(unknown)}")
        variables = message.get("dynamic_variables") or {}
        if not isinstance(variables, dict) or any(
            not isinstance(v, str | int | float | bool) for v in variables.values()
        ):
            raise ScriptError("dynamic_variables must map names to strings, numbers or booleans")
        self.initiation = message
        self.send(
            {
                "type": "conversation_initiation_metadata",
                "conversation_initiation_metadata_event": {
                    "conversation_id": self.id,
                    "agent_output_audio_format": self.audio_format,
                    "user_input_audio_format": self.audio_format,
                },
            }
        )

    def _user_audio(self, message: dict) -> None:
        if set(message) != {"user_audio_chunk"}:
            raise ScriptError("user_audio_chunk must be alone in its message")
        try:
            audio = base64.b64decode(message["user_audio_chunk"], validate=True)
        except (binascii.Error, TypeError, ValueError):
            raise ScriptError("user_audio_chunk is not base64") from None
        if not audio:
            raise ScriptError("empty user_audio_chunk")
        loud = sum(abs(s) for s in mulaw.decode(audio)) / len(audio) > SPEECH_LEVEL
        with self.condition:
            self.audio_chunks += 1
            if loud:
                self.speech_frames += 1
                self.silent_frames = 0
            else:
                self.silent_frames += 1
                if self.speech_frames >= 5 and self.silent_frames >= 10:  # 100 ms speech, 200 ms pause
                    self.utterances += 1
                    self.speech_frames = 0
            self.condition.notify_all()


def greet(c: Conversation) -> None:
    """The first message (the override, else a default), its {{variables}} filled in."""
    first = (c.initiation.get("conversation_config_override") or {}).get("agent", {}).get("first_message")
    c.say(c.fill(first or "Hello, this is the agent."))


def normal_call(c: Conversation) -> None:
    """Greets, hears an answer, answers a ping, says goodbye and ends the call."""
    greet(c)
    c.hear("Yes, that's me.")
    c.ping()
    c.say("Thank you, your order is confirmed. Goodbye!")
    c.end()


class AgentSocketEmulator:
    """Serves the conversation socket; `signed_url(agent_id)` gives URLs it accepts."""

    def __init__(self, secret: str = "emulator-signing-secret", audio_format: str = "ulaw_8000"):
        self.secret = secret
        self.audio_format = audio_format
        self.scripts: dict[str, object] = {}
        self.default_script = normal_call
        self.conversations: dict[str, Conversation] = {}
        self.errors: list[str] = []
        self.url = ""
        self._server = None
        app = Flask(__name__)
        sock = Sock(app)
        sock.route("/v1/convai/conversation")(self._socket)
        self.app = app

    def start(self):
        self._server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"ws://127.0.0.1:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self):
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def signature(self, agent_id: str) -> str:
        return hmac.new(self.secret.encode(), agent_id.encode(), hashlib.sha256).hexdigest()

    def signed_url(self, agent_id: str) -> str:
        signature = self.signature(agent_id)
        return f"{self.url}/v1/convai/conversation?agent_id={agent_id}&conversation_signature={signature}"

    def conversation_for(self, agent_id: str) -> Conversation | None:
        return next((c for c in reversed(list(self.conversations.values())) if c.agent_id == agent_id), None)

    def _socket(self, ws):
        agent_id = request.args.get("agent_id", "")
        if not hmac.compare_digest(request.args.get("conversation_signature", ""), self.signature(agent_id)):
            self.errors.append("conversation socket opened without a valid signed URL")
            ws.close(1008, "Invalid signature")
            return
        conversation = Conversation(self, ws, agent_id, self.audio_format)
        self.conversations[conversation.id] = conversation
        script = self.scripts.get(agent_id, self.default_script)
        reader = threading.Thread(target=self._read, args=(conversation,), daemon=True)
        reader.start()
        try:
            with conversation.condition:
                conversation.condition.wait_for(lambda: conversation.initiation or conversation.closed, 10)
            if conversation.initiation is not None and not conversation.closed:
                script(conversation)
        except ScriptError as exc:
            self._violation(conversation, str(exc))
        except ConnectionClosed:
            pass
        reader.join(timeout=5)

    def _read(self, conversation: Conversation) -> None:
        try:
            while True:
                raw = conversation.ws.receive()
                if raw is None:
                    break
                conversation.receive(raw)
        except ScriptError as exc:
            self._violation(conversation, str(exc))
        except (ConnectionClosed, OSError):
            pass
        with conversation.condition:
            conversation.closed = True
            if conversation.ended_by is None:
                conversation.ended_by = "client"
            conversation.condition.notify_all()

    def _violation(self, conversation: Conversation, message: str) -> None:
        self.errors.append(message)
        try:
            conversation.ws.close(1008, message[:100])
        except (ConnectionClosed, OSError):
            pass

    def conversation_json(self, conversation_id: str) -> dict | None:
        """GET /v1/convai/conversations/{id} for a bridged conversation."""
        c = self.conversations.get(conversation_id)
        if c is None:
            return None
        done = c.closed or c.ended_by is not None
        return {
            "agent_id": c.agent_id,
            "conversation_id": c.id,
            "status": "done" if done else "in-progress",
            "transcript": [{**turn, "tool_calls": [], "interrupted": False} for turn in c.transcript],
            "metadata": {
                "start_time_unix_secs": int(time.time() - (time.monotonic() - c.started)),
                "call_duration_secs": round(time.monotonic() - c.started),
                "cost": 120,
                "termination_reason": "end_call tool was called." if c.ended_by == "agent" else "Client disconnected",
            },
            "analysis": {
                "call_successful": "success" if c.ended_by == "agent" else "unknown",
                "transcript_summary": "The agent spoke with the callee over the bridged line.",
                "call_summary_title": "Bridged call",
                "data_collection_results": {},
                "evaluation_criteria_results": {},
            },
            "has_audio": False,
        }
