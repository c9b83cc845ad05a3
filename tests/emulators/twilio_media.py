"""An emulator of Twilio for calls we place ourselves and bridge: `calls.create`, fetching our
TwiML, the bidirectional media stream with a scripted callee, AMD and status callbacks,
call updates (hang up, <Dial> transfer) and dual-channel recordings.

The media socket is checked as Twilio would: every frame we receive must be JSON with a known
event (media, mark, clear), the streamSid of the `start` we sent, and media a base64 µ-law
payload; anything else is recorded in `errors` and closes the stream (Twilio's error 31951).

Callees are scripts (functions of a `Line`), chosen by the number called:

    twilio = TwilioEmulator(account_sid, auth_token).start()
    twilio.callees["+14155550123"] = lambda line: (line.wait_agent(), line.say(1.0), line.wait_hangup())
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import threading
import time
import uuid
import wave
import xml.etree.ElementTree as ET
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate

import requests
from simple_websocket import Client, ConnectionClosed
from twilio.request_validator import RequestValidator
from werkzeug.routing import Map, Rule

from tests.support import scaled
from webapp.telephony.twilio import dtmf, mulaw

from .server import EmulatorServer, json_response

API = "/2010-04-01"
FRAME = mulaw.FRAME_SAMPLES
SILENT_FRAME = bytes([mulaw.SILENCE]) * FRAME
ROUTES = Map(
    [
        Rule(f"{API}/Accounts/<account_sid>/Calls.json", methods=["POST"], endpoint="create"),
        Rule(f"{API}/Accounts/<account_sid>/Calls/<call_sid>.json", methods=["GET", "POST"], endpoint="call"),
        Rule(f"{API}/Accounts/<account_sid>/Calls/<call_sid>/Recordings.json", methods=["GET"], endpoint="recordings"),
        Rule(f"{API}/Accounts/<account_sid>/Recordings/<recording_sid>.wav", methods=["GET"], endpoint="media"),
    ]
)


def sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def speech(seconds: float, frequency: float = 300.0) -> bytes:
    count = int(8000 * seconds)
    return mulaw.encode(int(5000 * math.sin(2 * math.pi * frequency * n / 8000)) for n in range(count))


class CalleeDone(Exception):
    """The line is gone (hung up, transferred, or the stream was closed)."""


@dataclass
class EmulatedLine:
    """One call: its REST resource, its stream and what the callee heard."""

    call_sid: str
    to_number: str
    from_number: str
    params: dict
    status: str = "queued"
    stream_sid: str = ""
    answered_at: float | None = None
    ended_at: float | None = None
    transferred_to: str | None = None
    answered_by: str | None = None
    received: list = field(default_factory=list)  # every frame we got, parsed
    heard: bytearray = field(default_factory=bytearray)  # agent audio, as played out
    sent_audio: bytearray = field(default_factory=bytearray)  # callee audio
    marks_echoed: list = field(default_factory=list)
    clears: int = 0
    stop_sent: bool = False
    ws: object = None


class Line:
    """What a callee script does on an answered call; audio flows in real time meanwhile."""

    def __init__(self, emulator: TwilioEmulator, call: EmulatedLine):
        self.emulator = emulator
        self.call = call
        self.outgoing: deque[bytes] = deque()
        self.playout: deque[bytes] = deque()  # agent audio waiting to be "played"
        self.marks: deque[tuple[int, str]] = deque()  # (frames queued before it, name)
        self.frames_queued = 0
        self.frames_played = 0
        self.condition = threading.Condition()
        self.done = threading.Event()
        self.sequence = 1
        self.started = time.monotonic()
        self.send_lock = threading.Lock()

    # -- scripts use these ---------------------------------------------------------------
    def say(self, seconds: float) -> None:
        """Speak for `seconds` (queued; returns once played)."""
        audio = speech(seconds)
        with self.condition:
            for i in range(0, len(audio), FRAME):
                self.outgoing.append(audio[i : i + FRAME].ljust(FRAME, bytes([mulaw.SILENCE])))
        self._wait(lambda: not self.outgoing, seconds + 5)

    def press(self, digit: str) -> None:
        self._send({"event": "dtmf", "streamSid": self.call.stream_sid, "sequenceNumber": str(self._seq()),
                    "dtmf": {"track": "inbound_track", "digit": digit}})  # fmt: skip

    def wait_agent(self, timeout: float = 15.0) -> None:
        """Until the agent has spoken and everything it sent has played."""
        start = len(self.call.heard)
        self._wait(lambda: self.frames_played > 0 and len(self.call.heard) > start and not self.playout, timeout)
        self._wait(lambda: not self.playout, timeout)

    def wait_speaking(self, timeout: float = 15.0) -> None:
        """Until agent audio is playing right now."""
        self._wait(lambda: bool(self.playout), timeout)

    def wait_heard_seconds(self, seconds: float, timeout: float = 20.0) -> None:
        self._wait(lambda: len(self.call.heard) >= seconds * 8000, timeout)

    def wait_keys(self, digits: str, timeout: float = 15.0) -> None:
        self._wait(lambda: digits in dtmf.decode_digits(bytes(self.call.heard)), timeout)

    def hang_up(self) -> None:
        """The callee hangs up: Twilio stops the stream and ends the call."""
        self.emulator.end(self.call, "completed")

    def wait_end(self, timeout: float = 30.0) -> None:
        if not self.done.wait(timeout):
            raise AssertionError("the call was not ended")

    def pause(self, seconds: float) -> None:
        if self.done.wait(seconds):
            raise CalleeDone()

    def _wait(self, predicate, timeout: float) -> None:
        with self.condition:
            if not self.condition.wait_for(lambda: predicate() or self.done.is_set(), timeout):
                raise AssertionError("the callee waited in vain")
        if self.done.is_set() and not predicate():
            raise CalleeDone()

    # -- the stream ----------------------------------------------------------------------
    def _seq(self) -> int:
        self.sequence += 1
        return self.sequence

    def _send(self, message: dict) -> None:
        with self.send_lock:
            if self.call.ws is not None and self.call.ws.connected:
                self.call.ws.send(json.dumps(message))

    def pump(self) -> None:
        """Every 20 ms: send one callee frame (speech or silence), play one agent frame, echo marks."""
        next_at = time.monotonic()
        chunk = 0
        while not self.done.is_set():
            with self.condition:
                frame = self.outgoing.popleft() if self.outgoing else SILENT_FRAME
                if self.playout:
                    self.call.heard += self.playout.popleft()
                    self.frames_played += 1
                echoes = []
                while self.marks and self.marks[0][0] <= self.frames_played:
                    echoes.append(self.marks.popleft()[1])
                self.condition.notify_all()
            self.call.sent_audio += frame
            chunk += 1
            try:
                self._send({"event": "media", "sequenceNumber": str(self._seq()), "streamSid": self.call.stream_sid,
                            "media": {"track": "inbound", "chunk": str(chunk), "timestamp": str(chunk * 20),
                                      "payload": base64.b64encode(frame).decode()}})  # fmt: skip
                for name in echoes:
                    self.call.marks_echoed.append(name)
                    self._send({"event": "mark", "sequenceNumber": str(self._seq()),
                                "streamSid": self.call.stream_sid, "mark": {"name": name}})  # fmt: skip
            except (ConnectionClosed, OSError):
                return
            next_at += 0.02
            time.sleep(max(0.0, next_at - time.monotonic()))

    def on_frame(self, raw) -> None:
        """A frame from the bridge, checked as Twilio checks it."""
        try:
            message = json.loads(raw)
        except (TypeError, ValueError):
            raise ProtocolViolation("frame is not JSON") from None
        if not isinstance(message, dict):
            raise ProtocolViolation("frame is not a JSON object")
        self.call.received.append(message)
        event = message.get("event")
        if event not in ("media", "mark", "clear"):
            raise ProtocolViolation(f"unknown event {event!r}")
        if message.get("streamSid") != self.call.stream_sid:
            raise ProtocolViolation(f"{event} with streamSid {message.get('streamSid')!r}")
        with self.condition:
            if event == "media":
                payload = (message.get("media") or {}).get("payload")
                try:
                    audio = base64.b64decode(payload or "", validate=True)
                except (binascii.Error, TypeError, ValueError):
                    raise ProtocolViolation("media payload is not base64") from None
                if not audio:
                    raise ProtocolViolation("empty media payload")
                for i in range(0, len(audio), FRAME):
                    self.playout.append(audio[i : i + FRAME])
                    self.frames_queued += 1
            elif event == "mark":
                name = (message.get("mark") or {}).get("name")
                if not isinstance(name, str) or not name:
                    raise ProtocolViolation("mark without a name")
                self.marks.append((self.frames_queued, name))
            else:
                self.call.clears += 1
                self.playout.clear()
                self.frames_queued = self.frames_played
                pending = [name for _, name in self.marks]
                self.marks.clear()
            self.condition.notify_all()
        if event == "clear":
            for name in pending:
                self.call.marks_echoed.append(name)
                self._send({"event": "mark", "sequenceNumber": str(self._seq()), "streamSid": self.call.stream_sid,
                            "mark": {"name": name}})  # fmt: skip


class ProtocolViolation(Exception):
    pass


def answer_then_talk(line: Line) -> None:
    """The default callee: listens to the greeting, answers, waits for the goodbye."""
    line.wait_agent()
    line.say(1.0)
    line.wait_end()


class TwilioEmulator(EmulatorServer):
    def __init__(self, account_sid: str = "AC" + "1" * 32, auth_token: str = "twilio-bridge-token"):
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callees: dict[str, object] = {}  # to_number -> script(Line) or "busy" / "no-answer"
        self.machines: dict[str, str] = {}  # to_number -> AnsweredBy for AMD (default human)
        self.amd_delay = 0.5
        # Real Twilio may post the `completed` callback before its answer to our hang-up arrives;
        # True makes that order certain (the stream's stop and the callback go out first).
        self.callbacks_before_hang_up_answer = False
        self.lines: dict[str, EmulatedLine] = {}
        self.errors: list[str] = []
        self.callback_answers: list[tuple[str, int]] = []  # (url, status) of every callback we posted
        self._lines: dict[str, Line] = {}

    # -- REST ----------------------------------------------------------------------------
    def dispatch(self, request, payload):
        try:
            endpoint, args = ROUTES.bind_to_environ(request.environ).match()
        except Exception:  # noqa: BLE001 - werkzeug's NotFound/MethodNotAllowed
            return _error(20404, "The requested resource was not found", 404)
        if not self._authorized(request, args.get("account_sid")):
            return _error(20003, "Authenticate", 401)
        return getattr(self, f"_{endpoint}")(request, **args)

    def _authorized(self, request, account_sid) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("Authorization") == f"Basic {expected}" and account_sid == self.account_sid

    def _create(self, request, account_sid):
        form = request.form
        if not form.get("To") or not form.get("From"):
            return _error(21201, "No 'To' or 'From' number is specified", 400)
        if not form.get("Url") and not form.get("Twiml"):
            return _error(21205, "Url or Twiml is required", 400)
        params = {key: form.getlist(key) if key == "StatusCallbackEvent" else form.get(key) for key in form}
        call = EmulatedLine(call_sid=sid("CA"), to_number=form["To"], from_number=form["From"], params=params)
        self.lines[call.call_sid] = call
        threading.Thread(target=self._run_call, args=(call,), daemon=True).start()
        return json_response(self._resource(call), 201)

    def _call(self, request, account_sid, call_sid):
        call = self.lines.get(call_sid)
        if call is None:
            return _error(20404, f"The requested resource {request.path} was not found", 404)
        if request.method == "POST":
            if call.status not in ("queued", "ringing", "in-progress"):
                return _error(21220, "Call is not in-progress. Cannot redirect.", 400)
            status, twiml = request.form.get("Status"), request.form.get("Twiml")
            if status in ("completed", "canceled"):
                args = (call, "completed" if call.answered_at else "canceled")
                if self.callbacks_before_hang_up_answer:
                    self.end(*args)  # in this request's thread: the lock held here is re-entrant
                else:
                    threading.Thread(target=self.end, args=args).start()
            elif twiml:
                number = ET.fromstring(twiml).findtext("Dial")
                if not number:
                    return _error(12100, "Document parse failure", 400)
                call.transferred_to = number.strip()
                threading.Thread(target=self.end, args=(call, "completed")).start()
            else:
                return _error(21218, "Invalid Status", 400)
        return json_response(self._resource(call))

    def _recordings(self, request, account_sid, call_sid):
        call = self.lines.get(call_sid)
        records = []
        if call is not None and call.ended_at and call.answered_at and call.params.get("Record") == "true":
            rsid = "RE" + call.call_sid[2:]
            records.append({"sid": rsid, "call_sid": call.call_sid, "account_sid": self.account_sid,
                            "channels": 2 if call.params.get("RecordingChannels") == "dual" else 1,
                            "duration": str(int(call.ended_at - call.answered_at)), "status": "completed",
                            "uri": f"{API}/Accounts/{self.account_sid}/Recordings/{rsid}.json"})  # fmt: skip
        return json_response({"recordings": records, "page": 0, "page_size": 50, "start": 0, "end": len(records),
                              "uri": request.path, "first_page_uri": request.path, "next_page_uri": None,
                              "previous_page_uri": None})  # fmt: skip

    def _media(self, request, account_sid, recording_sid):
        call = self.lines.get("CA" + recording_sid[2:])
        if call is None or not call.ended_at:
            return _error(20404, "Recording not found", 404)
        return _wav_response(call)

    def _resource(self, call: EmulatedLine) -> dict:
        return {"sid": call.call_sid, "account_sid": self.account_sid, "to": call.to_number,
                "from": call.from_number, "status": call.status, "direction": "outbound-api",
                "answered_by": call.answered_by, "date_created": formatdate(time.time()),
                "duration": str(int(call.ended_at - call.answered_at)) if call.ended_at and call.answered_at else None,
                "uri": f"{API}/Accounts/{self.account_sid}/Calls/{call.call_sid}.json"}  # fmt: skip

    # -- the call --------------------------------------------------------------------------
    def _callback(self, url: str | None, form: dict) -> None:
        if not url:
            return
        base = {"AccountSid": self.account_sid, "ApiVersion": "2010-04-01", "Direction": "outbound-api"}
        form = {**base, **form}
        signature = RequestValidator(self.auth_token).compute_signature(url, form)
        try:
            answer = requests.post(url, data=form, headers={"X-Twilio-Signature": signature}, timeout=scaled(10))
            self.callback_answers.append((url, answer.status_code))
            return answer
        except requests.RequestException as exc:
            self.errors.append(f"callback to {url} failed: {exc}")
            return None

    def _status(self, call: EmulatedLine, status: str, event: str) -> None:
        call.status = status
        if event in (call.params.get("StatusCallbackEvent") or []) or event == "completed":
            form = {"CallSid": call.call_sid, "CallStatus": status, "To": call.to_number, "From": call.from_number,
                    "Timestamp": formatdate(time.time()), "CallbackSource": "call-progress-events"}  # fmt: skip
            if status in ("completed", "busy", "no-answer", "failed", "canceled"):
                form["CallDuration"] = str(int(call.ended_at - call.answered_at)) if call.answered_at else "0"
            self._callback(call.params.get("StatusCallback"), form)

    def _run_call(self, call: EmulatedLine) -> None:
        script = self.callees.get(call.to_number, answer_then_talk)
        self._status(call, "initiated", "initiated")
        self._status(call, "ringing", "ringing")
        if script in ("busy", "no-answer"):
            call.ended_at = time.time()
            self._status(call, script, "completed")
            return
        call.answered_at = time.time()
        self._status(call, "in-progress", "answered")
        answer = self._callback(call.params.get("Url"), {"CallSid": call.call_sid, "CallStatus": "in-progress",
                                                         "To": call.to_number, "From": call.from_number})  # fmt: skip
        if answer is None or answer.status_code != 200:
            self.errors.append(f"our TwiML answered {getattr(answer, 'status_code', None)}")
            self.end(call, "completed")
            return
        stream_url, parameters = _read_twiml(answer.text)
        if call.params.get("MachineDetection") and call.params.get("AsyncAmd") == "true":
            threading.Thread(target=self._amd, args=(call,), daemon=True).start()
        self._stream(call, stream_url, parameters, script)

    def _amd(self, call: EmulatedLine) -> None:
        time.sleep(self.amd_delay)
        call.answered_by = self.machines.get(call.to_number, "human")
        self._callback(call.params.get("AsyncAmdStatusCallback"), {"CallSid": call.call_sid,
                       "AnsweredBy": call.answered_by, "MachineDetectionDuration": "2400"})  # fmt: skip

    def _stream(self, call: EmulatedLine, url: str, parameters: dict, script) -> None:
        line = Line(self, call)
        self._lines[call.call_sid] = line
        call.stream_sid = sid("MZ")
        try:
            call.ws = Client.connect(url)
        except (ConnectionError, OSError) as exc:
            self.errors.append(f"media socket {url} refused: {exc}")
            self.end(call, "completed")
            return
        line._send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
        media_format = {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
        line._send({"event": "start", "sequenceNumber": "1", "streamSid": call.stream_sid,
                    "start": {"streamSid": call.stream_sid, "accountSid": self.account_sid, "callSid": call.call_sid,
                              "tracks": ["inbound"], "customParameters": parameters,
                              "mediaFormat": media_format}})  # fmt: skip
        threading.Thread(target=self._read, args=(line,), daemon=True).start()
        threading.Thread(target=line.pump, daemon=True).start()
        try:
            script(line)
        except CalleeDone:
            pass
        except AssertionError as exc:
            self.errors.append(f"callee {call.to_number}: {exc}")
            self.end(call, "completed")

    def _read(self, line: Line) -> None:
        ws = line.call.ws
        try:
            while True:
                raw = ws.receive()
                if raw is None:
                    break
                line.on_frame(raw)
        except ProtocolViolation as exc:
            self.errors.append(f"31951 Stream - Protocol - Invalid message: {exc}")
            ws.close(1008, "31951")
        except (ConnectionClosed, OSError):
            pass
        # the bridge closed the stream: <Connect> ends and, with no next verb, so does the call
        if not line.call.stop_sent and not line.call.ended_at:
            self.end(line.call, "completed", stream_closed_by_peer=True)

    def end(self, call: EmulatedLine, status: str, stream_closed_by_peer: bool = False) -> None:
        line = self._lines.get(call.call_sid)
        with self._lock:
            if call.ended_at:
                return
            call.ended_at = time.time()
        if line is not None:
            if not stream_closed_by_peer and call.ws is not None and call.ws.connected:
                call.stop_sent = True
                line._send({"event": "stop", "sequenceNumber": str(line._seq()), "streamSid": call.stream_sid,
                            "stop": {"accountSid": self.account_sid, "callSid": call.call_sid}})  # fmt: skip
                time.sleep(0.05)
                try:
                    call.ws.close()
                except (ConnectionClosed, OSError):
                    pass
            line.done.set()
            with line.condition:
                line.condition.notify_all()
        self._status(call, status, "completed")

    def line_for(self, to_number: str) -> EmulatedLine | None:
        matches = [c for c in self.lines.values() if c.to_number == to_number]
        return matches[-1] if matches else None


def _read_twiml(text: str) -> tuple[str, dict]:
    root = ET.fromstring(text)
    stream = root.find("./Connect/Stream")
    if root.tag != "Response" or stream is None or not stream.get("url", "").startswith(("ws://", "wss://")):
        raise AssertionError(f"expected <Response><Connect><Stream url=wss://…>, got {text}")
    return stream.get("url"), {p.get("name"): p.get("value") for p in stream.findall("Parameter")}


def _wav_response(call: EmulatedLine):
    from werkzeug.wrappers import Response

    callee, agent = mulaw.decode(bytes(call.sent_audio)), mulaw.decode(bytes(call.heard))
    length = max(len(callee), len(agent))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        frames = bytearray()
        for i in range(length):
            for channel in (callee, agent):
                value = channel[i] if i < len(channel) else 0
                frames += int(value).to_bytes(2, "little", signed=True)
        wav.writeframes(bytes(frames))
    return Response(buffer.getvalue(), mimetype="audio/x-wav")


def _error(code: int, message: str, status: int):
    return json_response({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                          "status": status}, status)  # fmt: skip
