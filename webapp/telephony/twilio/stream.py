"""Twilio Media Streams messages (JSON text frames over the stream WebSocket).

From Twilio: connected, start, media, dtmf, mark, stop (all but `connected` carry streamSid).
To Twilio: media, mark, clear, each with the streamSid from `start`; Twilio refuses anything
else (error 31951), so the bridge sends nothing before it knows the streamSid."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MULAW = "audio/x-mulaw"


class StreamProtocolError(ValueError):
    """A frame Twilio would never send (or one we can't read)."""


@dataclass(frozen=True)
class StreamStart:
    stream_sid: str
    call_sid: str
    account_sid: str
    parameters: dict = field(default_factory=dict)
    encoding: str = MULAW
    sample_rate: int = 8000
    channels: int = 1


def parse(raw) -> dict:
    try:
        message = json.loads(raw)
    except (TypeError, ValueError) as exc:
        raise StreamProtocolError("a stream frame is not JSON") from exc
    if not isinstance(message, dict) or not isinstance(message.get("event"), str):
        raise StreamProtocolError("a stream frame has no event")
    return message


def read_start(message: dict) -> StreamStart:
    start = message.get("start")
    if not isinstance(start, dict) or not start.get("streamSid") and not message.get("streamSid"):
        raise StreamProtocolError("`start` without a streamSid")
    media_format = start.get("mediaFormat") or {}
    parameters = start.get("customParameters") or {}
    return StreamStart(
        stream_sid=start.get("streamSid") or message["streamSid"],
        call_sid=start.get("callSid") or "",
        account_sid=start.get("accountSid") or "",
        parameters=parameters if isinstance(parameters, dict) else {},
        encoding=media_format.get("encoding", MULAW),
        sample_rate=int(media_format.get("sampleRate", 8000)),
        channels=int(media_format.get("channels", 1)),
    )


# media and mark go out with every agent audio chunk: the JSON is put together from its strings
# (json.dumps of one string is the encoder's fast path), not from a dict each time
def media(stream_sid: str, payload_b64: str) -> str:
    sid, payload = json.dumps(stream_sid), json.dumps(payload_b64)
    return '{"event":"media","streamSid":' + sid + ',"media":{"payload":' + payload + "}}"


def mark(stream_sid: str, name: str) -> str:
    return '{"event":"mark","streamSid":' + json.dumps(stream_sid) + ',"mark":{"name":' + json.dumps(name) + "}}"


def clear(stream_sid: str) -> str:
    return json.dumps({"event": "clear", "streamSid": stream_sid})
