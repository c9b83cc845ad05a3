"""The media bridge: one Twilio media stream relayed to one ElevenLabs agent conversation.

`Bridge` is the call's state machine and does no I/O of its own: a driver (webapp/media/server.py,
one asyncio loop for every call) tells it what arrived from either socket and when a tick passes,
and it answers by sending frames through the `twilio` and `agent` outboxes the driver gave it
(objects with `send(frame)`, `close(...)` and `connected`). Audio is never decoded: base64 µ-law
payloads pass through as they are. Everything slow (database reads and writes, Twilio REST calls)
goes through `hooks`, which the driver runs off the loop.
"""

from __future__ import annotations

import base64
import logging
import queue
import time
from dataclasses import dataclass, field

from ..base import CallSnapshot, Turn
from . import agent_messages as agent
from . import stream
from .dtmf import digits_audio, frames
from .keypad import Keypad

log = logging.getLogger(__name__)

TICK_SECONDS = 0.1  # how often the driver calls tick(): it looks at control messages and deadlines
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
    """What the bridge asks of the application (webapp/media/session.py); the driver runs the slow
    ones (authorize, agent_url, controls) off its loop, and the others only queue work."""

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
    def __init__(self, twilio, hooks: Hooks):
        self.twilio = twilio
        self.hooks = hooks
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
        self.linger_until: float | None = None
        self.agent_ended_at: float | None = None
        self.voicemail = False
        self.keypad: Keypad | None = None
        self.controls = None
        self.stats = {"to_agent": 0, "to_twilio": 0, "dropped_after_interruption": 0}

    # -- opening: `start`, then the call's context, then the agent socket -------------------
    def on_opening(self, raw) -> bool:
        """A frame before the stream started; True once it was `start` (then `self.start` is set)."""
        message = stream.parse(raw)
        if message["event"] == "connected":
            return False
        if message["event"] != "start":
            raise stream.StreamProtocolError(f"`{message['event']}` before `start`")
        self.start = stream.read_start(message)
        if self.start.encoding != stream.MULAW or self.start.sample_rate != 8000:
            raise stream.StreamProtocolError(f"unexpected media format {self.start.encoding}/{self.start.sample_rate}")
        return True

    def refuse(self, exc: StreamRefused) -> None:
        log.warning("media stream refused for CallSid %s: %s", self.start.call_sid, exc)
        self.twilio.close(1008, "invalid stream token")

    def begin(self, context: CallContext, controls) -> None:
        """The stream is the call's (`hooks.authorize`); `controls` is its inbox of control messages."""
        self.context = context
        self.keypad = Keypad(context.dtmf_rules)
        self.controls = controls

    def agent_opened(self, agent_outbox) -> None:
        self.agent = agent_outbox
        self.agent.send(agent.initiation(self.context.dynamic_variables, self.context.first_message))

    def agent_unreachable(self, exc: Exception) -> None:
        log.warning("agent socket for call %s could not be opened: %s", self.context.call_id, exc)
        self._fail(f"Could not connect to the ElevenLabs agent: {exc}", hang_up=True)

    def stream_failed(self, exc: stream.StreamProtocolError) -> None:
        log.warning("media stream closed: %s", exc)
        self._fail(f"Twilio media stream error: {exc}", hang_up=True)

    def stream_closed(self) -> None:
        """The Twilio socket closed without a `stop`."""
        self._finish(CallSnapshot(status="completed", end_reason="ended_by_callee"))

    def end(self) -> None:
        """The stream is over: close the agent socket, stop listening for controls."""
        self._close_agent()
        if self.controls is not None:
            self.hooks.release(self.context.call_id, self.controls)
            self.controls = None

    # -- from Twilio -------------------------------------------------------------------------
    def on_twilio(self, raw) -> bool:
        """Handle one frame from Twilio; True once the stream is over."""
        message = stream.parse(raw)
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
                if self.early:
                    early, self.early = self.early, []
                    for frame in early:
                        self.agent.send(agent.user_audio(frame))
                if self.agent.send(agent.user_audio(payload)):
                    self.stats["to_agent"] += 1
            elif len(self.early) < MAX_EARLY_FRAMES:
                self.early.append(payload)
        elif kind == "mark":
            self.pending_marks.discard((message.get("mark") or {}).get("name"))
        elif kind == "dtmf":
            self._on_callee_key(str((message.get("dtmf") or {}).get("digit", "")))
        elif kind == "stop":
            self._finish(CallSnapshot(status="completed", end_reason="ended_by_callee"))
            return True
        return False

    def tick(self) -> bool:
        """Control messages and deadlines, every TICK_SECONDS; True once the stream should close."""
        if self.controls is not None:
            while True:
                try:
                    self._on_control(self.controls.get_nowait())
                except queue.Empty:
                    break
        if self.agent_ended_at and self.verdict is None and self._goodbye_played():
            self._agent_finished()
        if self.verdict is None:
            return False
        # decided (hang-up or transfer on its way through Twilio's API): Twilio ends the stream
        # itself; closing it first would run the next TwiML verb, i.e. hang up
        self.linger_until = self.linger_until or time.monotonic() + LINGER_SECONDS
        return time.monotonic() > self.linger_until

    def _goodbye_played(self) -> bool:
        return not self.pending_marks or time.monotonic() - self.agent_ended_at > FINAL_AUDIO_TIMEOUT_SECONDS

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
            self.twilio.send(stream.media(self.start.stream_sid, base64.b64encode(chunk).decode()))
        self._mark("keys")
        self._event({"type": "keys_sent", "digits": digits})

    def _transfer(self, to_number: str) -> None:
        self._event({"type": "transferred", "to_number": to_number})
        snapshot = CallSnapshot(status="completed", end_reason="transferred", events=tuple(self.events))
        if self._decide(snapshot):
            self.hooks.report(self.context.call_id, self._with_turns(snapshot))
            self.hooks.transfer(self.context.call_id, self.start.call_sid, to_number)
        self._close_agent()

    # -- from the agent ----------------------------------------------------------------------
    def on_agent_message(self, raw: str) -> None:
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
        self.agent_ready = True  # the next Twilio frame sends the audio kept meanwhile, then itself

    def _on_agent_audio(self, event: dict) -> None:
        event_id = int(event.get("event_id") or 0)
        if event_id <= self.last_interrupted:
            self.stats["dropped_after_interruption"] += 1
            return
        payload = event.get("audio_base_64")
        if not payload or self.verdict is not None:
            return
        self.twilio.send(stream.media(self.start.stream_sid, payload))
        self.stats["to_twilio"] += 1
        self._mark(str(event_id))

    def _mark(self, label: str) -> None:
        self.mark_count += 1
        name = f"{label}.{self.mark_count}"
        self.pending_marks.add(name)
        self.twilio.send(stream.mark(self.start.stream_sid, name))

    def _on_interruption(self, event: dict) -> None:
        self.last_interrupted = max(self.last_interrupted, int(event.get("event_id") or 0))
        self.pending_marks.clear()  # Twilio echoes them after the clear; they no longer count
        self.twilio.send(stream.clear(self.start.stream_sid))

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

    def on_agent_close(self, code: int, reason: str) -> None:
        if self.verdict is not None:
            return
        if code == 1000:
            self.agent_ended_at = time.monotonic()  # tick() hangs up once the goodbye played
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
        for index in range(len(self.turns) - 1, -1, -1):
            if self.turns[index].role == "agent":
                old = self.turns[index]
                self.turns[index] = Turn("agent", text.strip(), old.start_seconds, old.end_seconds)
                break
        self._publish()

    def _event(self, event: dict) -> None:
        self.events.append({**event, "at_seconds": round(self.now_seconds(), 2)})

    def _with_turns(self, snapshot: CallSnapshot) -> CallSnapshot:
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

    def _to_agent(self, frame: str) -> None:
        if self.agent is not None:
            self.agent.send(frame)
