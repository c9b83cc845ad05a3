"""The media bridge: one Twilio media stream relayed to one ElevenLabs agent conversation.

Threads per call: the stream handler's (Twilio → agent, key presses, control messages, end
deadlines) and the agent socket's reader (agent → Twilio, pings, transcripts, tools); each
socket's own reader thread stays inside simple-websocket. Audio is never decoded: base64
µ-law payloads pass through as they are. Everything slow (database writes, Twilio REST calls)
goes through `hooks`, which run it off the audio path.
"""

from __future__ import annotations

import base64
import logging
import queue
import threading
import time
from dataclasses import dataclass, field

from simple_websocket import ConnectionClosed

from ..base import CallSnapshot, Turn
from . import agent_messages as agent
from . import stream
from .dtmf import digits_audio, frames
from .keypad import Keypad

log = logging.getLogger(__name__)

TICK_SECONDS = 0.1  # how often the stream loop looks at control messages and deadlines
FINAL_AUDIO_TIMEOUT_SECONDS = 20.0  # longest wait for the goodbye to play before hanging up
LINGER_SECONDS = 5.0  # after the verdict, how long to wait for Twilio's own `stop`
MAX_EARLY_FRAMES = 500  # callee audio kept while the agent connects (10 s)
WORDS_PER_SECOND = 2.5


class StreamRefused(Exception):
    """The stream's token or call is not valid: close it."""


@dataclass
class CallContext:
    """What the bridge needs to know about the call, looked up when the stream starts."""

    call_id: str
    agent_id: str
    dynamic_variables: dict
    first_message: str | None = None
    dtmf_rules: dict = field(default_factory=dict)
    voicemail_action: str = "hang_up"  # or leave_message
    voicemail_message: str | None = None


class Hooks:
    """What the bridge asks of the application; the web layer implements it."""

    def authorize(self, parameters: dict, call_sid: str) -> CallContext:  # raises StreamRefused
        raise NotImplementedError

    def agent_url(self, context: CallContext) -> str:
        raise NotImplementedError

    def controls(self, call_id: str) -> queue.Queue | None:
        return None

    def release(self, call_id: str, inbox) -> None:
        pass

    def report(self, call_id: str, snapshot: CallSnapshot, provider_data: dict | None = None) -> None:
        pass

    def hang_up(self, call_id: str, call_sid: str) -> None:
        pass

    def transfer(self, call_id: str, call_sid: str, to_number: str) -> None:
        pass


class Bridge:
    def __init__(self, twilio_ws, hooks: Hooks, connect_agent):
        """`connect_agent(url, on_message, on_close)` opens the agent socket (an AgentSocket)."""
        self.twilio = twilio_ws
        self.hooks = hooks
        self.connect_agent = connect_agent
        self.lock = threading.RLock()
        self.twilio_lock = threading.Lock()
        self.start: stream.StreamStart | None = None
        self.context: CallContext | None = None
        self.agent = None
        self.agent_ready = False
        self.early: list[str] = []
        self.stream_ms = 0
        self.started_at = time.monotonic()
        self.last_interrupted = -1
        self.pending_marks: set[str] = set()
        self.mark_count = 0
        self.turns: list[Turn] = []
        self.events: list[dict] = []
        self.verdict: CallSnapshot | None = None
        self.agent_ended_at: float | None = None
        self.voicemail = False
        self.keypad: Keypad | None = None
        self.controls = None
        self.stats = {"to_agent": 0, "to_twilio": 0, "dropped_after_interruption": 0}

    # -- the stream handler's thread -------------------------------------------------------
    def run(self) -> None:
        try:
            if self._await_start():
                self._relay_stream()
        except ConnectionClosed:
            self._finish(CallSnapshot(status="completed", end_reason="ended_by_callee"))
        except stream.StreamProtocolError as exc:
            log.warning("media stream closed: %s", exc)
            self._fail(f"Twilio media stream error: {exc}", hang_up=True)
        finally:
            self._close_agent()
            if self.controls is not None:
                self.hooks.release(self.context.call_id, self.controls)

    def _await_start(self) -> bool:
        while True:
            message = stream.parse(self.twilio.receive())
            if message["event"] == "connected":
                continue
            if message["event"] != "start":
                raise stream.StreamProtocolError(f"`{message['event']}` before `start`")
            self.start = stream.read_start(message)
            break
        if self.start.encoding != stream.MULAW or self.start.sample_rate != 8000:
            raise stream.StreamProtocolError(f"unexpected media format {self.start.encoding}/{self.start.sample_rate}")
        try:
            self.context = self.hooks.authorize(self.start.parameters, self.start.call_sid)
        except StreamRefused as exc:
            log.warning("media stream refused for CallSid %s: %s", self.start.call_sid, exc)
            self.twilio.close(1008, "invalid stream token")
            return False
        self.keypad = Keypad(self.context.dtmf_rules)
        self.controls = self.hooks.controls(self.context.call_id)
        try:
            url = self.hooks.agent_url(self.context)
            self.agent = self.connect_agent(url, self._on_agent_message, self._on_agent_close)
            self.agent.send(agent.initiation(self.context.dynamic_variables, self.context.first_message))
        except Exception as exc:  # noqa: BLE001 - any failure to reach the agent ends the call with its reason
            log.warning("agent socket for call %s could not be opened: %s", self.context.call_id, exc)
            self._fail(f"Could not connect to the ElevenLabs agent: {exc}", hang_up=True)
            return False
        return True

    def _relay_stream(self) -> None:
        linger_until = None
        while True:
            raw = self.twilio.receive(timeout=TICK_SECONDS)
            if raw is not None:
                if self._on_twilio(stream.parse(raw)):
                    return
            elif not self.twilio.connected:
                self._fail("The Twilio media stream closed without a stop message", hang_up=True)
                return
            self._tick()
            if self.verdict is not None:
                # decided (hang-up or transfer on its way through Twilio's API): Twilio ends the
                # stream itself; closing it first would run the next TwiML verb, i.e. hang up
                linger_until = linger_until or time.monotonic() + LINGER_SECONDS
                if time.monotonic() > linger_until:
                    return

    def _on_twilio(self, message: dict) -> bool:
        """Handle one frame from Twilio; True once the stream is over."""
        kind = message["event"]
        if kind == "media":
            media = message.get("media") or {}
            payload = media.get("payload")
            if not isinstance(payload, str):
                raise stream.StreamProtocolError("`media` without a payload")
            timestamp = media.get("timestamp")
            if timestamp is not None:
                self.stream_ms = int(timestamp)
            if self.agent_ready:
                if self.early:  # sent from this thread only, so they stay in order
                    early, self.early = self.early, []
                    for frame in early:
                        self.agent.send(agent.user_audio(frame))
                if self.agent.send(agent.user_audio(payload)):
                    self.stats["to_agent"] += 1
            elif len(self.early) < MAX_EARLY_FRAMES:
                self.early.append(payload)
        elif kind == "mark":
            with self.lock:
                self.pending_marks.discard((message.get("mark") or {}).get("name"))
        elif kind == "dtmf":
            self._on_callee_key(str((message.get("dtmf") or {}).get("digit", "")))
        elif kind == "stop":
            self._finish(CallSnapshot(status="completed", end_reason="ended_by_callee"))
            return True
        return False

    def _tick(self) -> None:
        if self.controls is not None:
            while True:
                try:
                    self._on_control(self.controls.get_nowait())
                except queue.Empty:
                    break
        with self.lock:
            ended = self.agent_ended_at
            played = not self.pending_marks
        if ended and self.verdict is None and (played or time.monotonic() - ended > FINAL_AUDIO_TIMEOUT_SECONDS):
            self._agent_finished()

    def _on_control(self, message: dict) -> None:
        if message.get("type") == "answering_machine" and message.get("action") == "hang_up":
            self._event({"type": "answering_machine", "answered_by": message.get("answered_by"), "action": "hang_up"})
            message = "An answering machine answered; the call was ended without a message."
            self._finish(CallSnapshot(status="failed", failure_reason="voicemail", error_message=message))
        elif message.get("type") == "answering_machine" and message.get("action") == "leave_message":
            self.voicemail = True
            self._event({"type": "answering_machine", "answered_by": message.get("answered_by"),
                         "action": "leave_message"})  # fmt: skip
            text = self.context.voicemail_message or "Please call us back."
            self._to_agent(
                agent.contextual_update(
                    "An answering machine took the call and its beep has sounded. Leave this voicemail "
                    f"message now, word for word, then end the call: {text}"
                )
            )

    # -- key presses -------------------------------------------------------------------------
    def _on_callee_key(self, digit: str) -> None:
        press = self.keypad.callee_pressed(digit)
        self._event({"type": "dtmf", **press})
        self._publish()
        action = press.get("action")
        if action == "end_call":
            self._finish(CallSnapshot(status="completed", end_reason="ended_by_callee"), hang_up=True)
        elif action == "transfer":
            self._transfer(press["to_number"])
        else:
            self._to_agent(agent.contextual_update(self.keypad.describe(press)))

    def send_keys(self, digits: str) -> None:
        """Press keys on the line: DTMF tones as µ-law media frames, then a mark."""
        audio = digits_audio(digits)
        for chunk in frames(audio):
            self._to_twilio(stream.media(self.start.stream_sid, base64.b64encode(chunk).decode()))
        self._mark("keys")
        self._event({"type": "keys_sent", "digits": digits})

    def _transfer(self, to_number: str) -> None:
        self._event({"type": "transferred", "to_number": to_number})
        snapshot = CallSnapshot(status="completed", end_reason="transferred", events=tuple(self.events))
        if self._decide(snapshot):
            self.hooks.report(self.context.call_id, self._with_turns(snapshot))
            self.hooks.transfer(self.context.call_id, self.start.call_sid, to_number)
        self._close_agent()

    # -- the agent socket's reader thread ---------------------------------------------------
    def _on_agent_message(self, raw: str) -> None:
        try:
            message = agent.parse(raw)
            kind, event = message["type"], agent.event(message)
            if kind == "audio":
                self._on_agent_audio(event)
            elif kind == "ping":
                self.agent.send(agent.pong(event.get("event_id")))
            elif kind == "interruption":
                self._on_interruption(event)
            elif kind == "conversation_initiation_metadata":
                self._on_metadata(event)
            elif kind == "agent_response":
                self._turn("agent", event.get("agent_response") or "")
            elif kind == "agent_response_correction":
                self._correct(event.get("corrected_agent_response") or "")
            elif kind == "user_transcript":
                self._turn("user", event.get("user_transcript") or "")
            elif kind == "client_tool_call":
                self._on_tool_call(event)
        except agent.AgentProtocolError as exc:
            self._fail(str(exc), hang_up=True)
            self._close_agent()

    def _on_metadata(self, event: dict) -> None:
        agent.check_formats(event)
        conversation_id = event.get("conversation_id")
        self.hooks.report(
            self.context.call_id,
            CallSnapshot(status="in_progress"),
            {"conversation_id": conversation_id, "stream_sid": self.start.stream_sid},
        )
        self.agent_ready = True  # the stream thread sends the audio kept meanwhile, then the rest

    def _on_agent_audio(self, event: dict) -> None:
        event_id = int(event.get("event_id") or 0)
        if event_id <= self.last_interrupted:
            self.stats["dropped_after_interruption"] += 1
            return
        payload = event.get("audio_base_64")
        if not payload or self.verdict is not None:
            return
        self._to_twilio(stream.media(self.start.stream_sid, payload))
        self.stats["to_twilio"] += 1
        self._mark(str(event_id))

    def _mark(self, label: str) -> None:
        with self.lock:
            self.mark_count += 1
            name = f"{label}.{self.mark_count}"
            self.pending_marks.add(name)
        self._to_twilio(stream.mark(self.start.stream_sid, name))

    def _on_interruption(self, event: dict) -> None:
        with self.lock:
            self.last_interrupted = max(self.last_interrupted, int(event.get("event_id") or 0))
            self.pending_marks.clear()  # Twilio echoes them after the clear; they no longer count
        self._to_twilio(stream.clear(self.start.stream_sid))

    def _on_tool_call(self, call: dict) -> None:
        name, call_id = call.get("tool_name"), call.get("tool_call_id") or ""
        parameters = call.get("parameters") or {}
        self._event({"type": "tool_call", "tool": name, "params": parameters})
        if name == "press_keys":
            digits = "".join(ch for ch in str(parameters.get("digits", "")) if ch in "0123456789*#wABCD")
            if not digits:
                self.agent.send(agent.tool_result(call_id, "No valid keys to press", is_error=True))
                return
            self.send_keys(digits)
            self.agent.send(agent.tool_result(call_id, f"Pressed {digits}"))
        elif name == "transfer_call":
            target = self.keypad.transfer_number()
            if not target:
                self.agent.send(agent.tool_result(call_id, "No transfer number is configured", is_error=True))
                return
            self.agent.send(agent.tool_result(call_id, f"Transferring to {target}"))
            self._transfer(target)
        else:
            self.agent.send(agent.tool_result(call_id, f"Unknown tool {name!r}", is_error=True))

    def _on_agent_close(self, code: int, reason: str) -> None:
        if self.verdict is not None:
            return
        if code == 1000:
            with self.lock:
                self.agent_ended_at = time.monotonic()  # the stream loop hangs up once the goodbye played
        else:
            detail = f" ({code}{': ' + reason if reason else ''})"
            self._fail(f"The ElevenLabs agent connection dropped{detail}", hang_up=True)

    # -- transcript ----------------------------------------------------------------------
    def now_seconds(self) -> float:
        if self.stream_ms:
            return self.stream_ms / 1000
        return time.monotonic() - self.started_at

    def _turn(self, role: str, text: str) -> None:
        text = text.strip()
        if not text:
            return
        now = self.now_seconds()
        spoken = max(len(text.split()), 1) / WORDS_PER_SECOND
        with self.lock:
            previous_end = self.turns[-1].end_seconds if self.turns else 0.0
            if role == "agent":
                start, end = now, now + spoken
            else:
                start, end = max(previous_end, now - spoken), now
            self.turns.append(Turn(role=role, text=text, start_seconds=start, end_seconds=max(end, start)))
        self._publish()
        if role == "user" and self.start is not None:
            keys = self.keypad.navigation_keys(text)
            if keys:
                self.send_keys(keys)

    def _correct(self, text: str) -> None:
        with self.lock:
            for index in range(len(self.turns) - 1, -1, -1):
                if self.turns[index].role == "agent":
                    old = self.turns[index]
                    self.turns[index] = Turn("agent", text.strip(), old.start_seconds, old.end_seconds)
                    break
        self._publish()

    def _event(self, event: dict) -> None:
        with self.lock:
            self.events.append({**event, "at_seconds": round(self.now_seconds(), 2)})

    def _with_turns(self, snapshot: CallSnapshot) -> CallSnapshot:
        with self.lock:
            return CallSnapshot(
                status=snapshot.status,
                turns=tuple(self.turns),
                failure_reason=snapshot.failure_reason,
                end_reason=snapshot.end_reason,
                events=tuple(self.events),
                error_message=snapshot.error_message,
                duration_seconds=round(self.now_seconds(), 2) if snapshot.is_terminal else None,
            )

    def _publish(self) -> None:
        if self.context is not None:
            self.hooks.report(self.context.call_id, self._with_turns(CallSnapshot(status="in_progress")))

    # -- ending ----------------------------------------------------------------------------
    def _decide(self, snapshot: CallSnapshot) -> bool:
        with self.lock:
            if self.verdict is not None:
                return False
            self.verdict = snapshot
            return True

    def _finish(self, snapshot: CallSnapshot, hang_up: bool = False) -> None:
        if self.context is None or not self._decide(snapshot):
            return
        self.hooks.report(self.context.call_id, self._with_turns(snapshot))
        if hang_up:
            self.hooks.hang_up(self.context.call_id, self.start.call_sid)
        self._close_agent()

    def _fail(self, message: str, *, hang_up: bool) -> None:
        snapshot = CallSnapshot(status="failed", failure_reason="provider_error", error_message=message)
        self._finish(snapshot, hang_up=hang_up)
        if hang_up and self.context is None and self.start is not None:
            self.twilio.close(1011, message[:100])

    def _agent_finished(self) -> None:
        """The agent ended the conversation and its last words have played: hang up."""
        if self.voicemail:
            snapshot = CallSnapshot(
                status="failed",
                failure_reason="voicemail",
                error_message="An answering machine answered; the agent left a message.",
            )
        else:
            snapshot = CallSnapshot(status="completed", end_reason="ended_by_agent")
        self._finish(snapshot, hang_up=True)

    def _close_agent(self) -> None:
        if self.agent is not None and self.agent.connected:
            self.agent.close()

    # -- sending -------------------------------------------------------------------------
    def _to_twilio(self, frame: str) -> None:
        with self.twilio_lock:
            try:
                self.twilio.send(frame)
            except (ConnectionClosed, OSError):
                pass

    def _to_agent(self, frame: str) -> None:
        if self.agent is not None:
            self.agent.send(frame)
