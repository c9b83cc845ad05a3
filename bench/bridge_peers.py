"""The far ends of bridged calls for bench/bridge_bench.py, on asyncio: `agent_server` plays the
ElevenLabs conversation socket, `twilio_calls` plays Twilio's media streams.

Every 20 ms frame carries (call index, sequence number, send time) in its first 16 bytes, so the
other end measures its one-way latency (CLOCK_MONOTONIC is shared by all processes) and sees any
frame lost or out of order. Run as `python -m bench.bridge_peers agent --port P --out FILE`."""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import signal
import struct
import time
from dataclasses import dataclass, field

STAMP = struct.Struct("<IIQ")
FRAME = 160
FRAME_SECONDS = 0.02


def stamped(call: int, seq: int) -> str:
    return base64.b64encode(STAMP.pack(call, seq, time.monotonic_ns()) + b"\xff" * (FRAME - STAMP.size)).decode()


@dataclass
class Direction:
    """Frames received in one direction: latencies (ms, after the warm-up), losses and reorders."""

    warmup_ns: int
    latencies: list = field(default_factory=list)
    expected: dict = field(default_factory=dict)  # call -> next sequence number
    frames: int = 0
    lost: int = 0
    reordered: int = 0

    def receive(self, payload_b64: str) -> None:
        call, seq, sent = STAMP.unpack_from(base64.b64decode(payload_b64))
        now = time.monotonic_ns()
        self.frames += 1
        expected = self.expected.get(call, 0)
        if seq > expected:
            self.lost += seq - expected
        elif seq < expected:
            self.reordered += 1
        self.expected[call] = max(expected, seq + 1)
        if sent >= self.warmup_ns:
            self.latencies.append((now - sent) / 1e6)

    def summary(self) -> dict:
        ordered = sorted(self.latencies)

        def pct(p: float) -> float | None:
            return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 3) if ordered else None

        return {"frames": self.frames, "measured": len(ordered), "lost": self.lost, "reordered": self.reordered,
                "p50_ms": pct(0.50), "p99_ms": pct(0.99), "p999_ms": pct(0.999),
                "max_ms": round(ordered[-1], 3) if ordered else None}  # fmt: skip


# -- the agent side (a server) -------------------------------------------------------------------
async def agent_server(port: int, out: str, warmup_s: float) -> None:
    from websockets.asyncio.server import serve

    inbound = Direction(warmup_ns=0)  # set when the first conversation opens
    state = {"pongs_missing": 0, "conversations": 0, "errors": []}

    async def conversation(ws):
        raw = await ws.recv()
        first = json.loads(raw)
        if first.get("type") != "conversation_initiation_client_data":
            state["errors"].append("first message is not the initiation")
            return
        state["conversations"] += 1
        if not inbound.warmup_ns:
            inbound.warmup_ns = time.monotonic_ns() + int(warmup_s * 1e9)
        call = int((first.get("dynamic_variables") or {}).get("bench_call", 0))
        metadata = {"conversation_id": f"conv_bench_{call}", "agent_output_audio_format": "ulaw_8000",
                    "user_input_audio_format": "ulaw_8000"}  # fmt: skip
        await ws.send(json.dumps({"type": "conversation_initiation_metadata",
                                  "conversation_initiation_metadata_event": metadata}))  # fmt: skip
        pending_pings: dict[int, float] = {}

        async def speak():
            seq, next_at = 0, time.monotonic()
            while True:
                if seq % 100 == 50:  # a ping every 2 s, answered before the next
                    if pending_pings:
                        state["pongs_missing"] += len(pending_pings)
                        pending_pings.clear()
                    pending_pings[seq] = time.monotonic()
                    await ws.send(json.dumps({"type": "ping", "ping_event": {"event_id": seq, "ping_ms": 0}}))
                await ws.send(json.dumps({"type": "audio", "audio_event": {"audio_base_64": stamped(call, seq),
                                                                           "event_id": seq + 1}}))  # fmt: skip
                seq += 1
                next_at += FRAME_SECONDS
                await asyncio.sleep(max(0.0, next_at - time.monotonic()))

        speaker = asyncio.create_task(speak())
        try:
            async for raw in ws:
                if raw.startswith('{"user_audio_chunk"'):
                    inbound.receive(json.loads(raw)["user_audio_chunk"])
                    continue
                message = json.loads(raw)
                if message.get("type") == "pong":
                    pending_pings.pop(message.get("event_id"), None)
        except Exception as exc:  # noqa: BLE001 - a closed connection ends the conversation
            if "ConnectionClosed" not in type(exc).__name__:
                state["errors"].append(repr(exc))
        finally:
            speaker.cancel()

    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with serve(conversation, "127.0.0.1", port, max_queue=None, compression=None):
        print("ready", flush=True)
        await stop
    result = {"twilio_to_agent": inbound.summary(), **state}
    with open(out, "w") as handle:
        json.dump(result, handle)


# -- the Twilio side (clients) --------------------------------------------------------------------
async def twilio_call(url: str, index: int, call_id: str, token: str, call_sid: str, seconds: float,
                      outbound: Direction, state: dict) -> None:  # fmt: skip
    from websockets.asyncio.client import connect

    stream_sid = f"MZbench{index}"
    async with connect(url, max_queue=None, compression=None, open_timeout=60) as ws:
        await ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        start = {"streamSid": stream_sid, "accountSid": "ACbench", "callSid": call_sid, "tracks": ["inbound"],
                 "customParameters": {"call_id": call_id, "token": token},
                 "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}  # fmt: skip
        await ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": stream_sid, "start": start}))

        async def listen():
            async for raw in ws:
                message = json.loads(raw)
                event = message.get("event")
                if message.get("streamSid") != stream_sid:
                    state["errors"].append(f"{event} without the streamSid")
                if event == "media":
                    outbound.receive(message["media"]["payload"])
                elif event == "mark":  # played at once: echo it
                    await ws.send(json.dumps({"event": "mark", "streamSid": stream_sid, "mark": message["mark"]}))

        listener = asyncio.create_task(listen())
        seq, next_at, end_at = 0, time.monotonic(), time.monotonic() + seconds
        while time.monotonic() < end_at:
            media = {
                "track": "inbound",
                "chunk": str(seq + 1),
                "timestamp": str(seq * 20),
                "payload": stamped(index, seq),
            }
            await ws.send(json.dumps({"event": "media", "sequenceNumber": str(seq + 2), "streamSid": stream_sid,
                                      "media": media}))  # fmt: skip
            seq += 1
            next_at += FRAME_SECONDS
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        state["sent"] += seq
        await ws.send(json.dumps({"event": "stop", "sequenceNumber": str(seq + 2), "streamSid": stream_sid,
                                  "stop": {"accountSid": "ACbench", "callSid": call_sid}}))  # fmt: skip
        await asyncio.sleep(0.2)
        listener.cancel()


async def twilio_calls(url: str, calls: list[tuple[str, str, str]], seconds: float, warmup_s: float,
                       ramp_s: float = 2.0) -> dict:  # fmt: skip
    """Open every call (spread over `ramp_s`), stream for `seconds`, hang up; returns the measurements."""
    outbound = Direction(warmup_ns=time.monotonic_ns() + int((ramp_s + warmup_s) * 1e9))
    state = {"errors": [], "sent": 0}

    async def one(index, call):
        await asyncio.sleep(ramp_s * index / max(len(calls), 1))
        try:
            await twilio_call(url, index, *call, seconds, outbound, state)
        except Exception as exc:  # noqa: BLE001 - reported, not raised: the other calls go on
            state["errors"].append(f"call {index}: {exc!r}")

    await asyncio.gather(*(one(i, call) for i, call in enumerate(calls)))
    return {"agent_to_twilio": outbound.summary(), "sent_to_agent": state["sent"], "errors": state["errors"][:10]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("side", choices=["agent"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args()
    asyncio.run(agent_server(args.port, args.out, args.warmup))


if __name__ == "__main__":
    main()
