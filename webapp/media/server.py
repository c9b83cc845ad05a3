"""The media process (`python media.py`): Twilio's media streams for TELEPHONY_PROVIDER=twilio,
each bridged to its ElevenLabs conversation socket, every call on one asyncio loop.

Per call: a task reading the Twilio socket (`Bridge.on_twilio`), one reading the agent socket
(`Bridge.on_agent_message`) and a ticker (`Bridge.tick`: control messages, end deadlines); a frame
goes from one socket to the other within the task that read it, with no thread in between. The
slow work runs off the loop: the stream's authorization (a database read), the agent's signed URL
(HTTP to ElevenLabs) and subscribing to the call's controls in the executor; the records and
Twilio REST calls in the writer thread (session.Writer). Why a process of its own, on `websockets`:
README, "Deploying"."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import signal
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from websockets.asyncio.client import connect
from websockets.asyncio.server import serve
from websockets.exceptions import ConnectionClosed
from websockets.protocol import State

from ..telephony.twilio import stream
from ..telephony.twilio.bridge import TICK_SECONDS, Bridge, StreamRefused
from . import session

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
SLOW_WORK_THREADS = 8  # stream openings waiting on the database or ElevenLabs at once
MAX_FRAME_BYTES = 1024 * 1024
SHUTDOWN_WRITES_SECONDS = 10.0
LAG_PROBE_SECONDS = 0.01
LAG_WINDOW = 1000  # the last 10 s


class Outbox:
    """What the bridge sends on one socket: queued by send() and close() (plain calls, as the bridge
    makes them), written in order by flush()."""

    def __init__(self, ws):
        self.ws = ws
        self.frames: deque[str] = deque()
        self.closing: tuple[int, str] | None = None
        self.flushing = False
        self.closer: asyncio.Task | None = None

    @property
    def connected(self) -> bool:
        return self.closing is None and self.ws.state is State.OPEN

    def send(self, frame: str) -> bool:
        if not self.connected:
            return False
        self.frames.append(frame)
        return True

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closing is None:
            self.closing = (code, reason)

    async def flush(self) -> None:
        if self.flushing:  # another task is writing (waiting for the socket to drain): it sends these too
            return
        self.flushing = True
        try:
            while self.frames:
                await self.ws.send(self.frames.popleft())
        except ConnectionClosed:
            self.frames.clear()
        finally:
            self.flushing = False
        if self.closing is not None and self.closer is None:
            # the closing handshake waits for the peer: not in the task relaying audio
            self.closer = asyncio.create_task(self.ws.close(*self.closing))

    async def finish(self) -> None:
        """Flush, and wait for the closing the bridge asked for (else the handler's end closes with 1000)."""
        await self.flush()
        if self.closer is not None:
            await self.closer


class LoopLag:
    """How late the loop runs what is due: a wake-up every LAG_PROBE_SECONDS, the delay of the last
    LAG_WINDOW of them kept. Every frame waits about as long as this before the bridge sees it."""

    def __init__(self):
        self.delays_ms: deque[float] = deque(maxlen=LAG_WINDOW)

    async def run(self) -> None:
        while True:
            due = time.monotonic() + LAG_PROBE_SECONDS
            await asyncio.sleep(LAG_PROBE_SECONDS)
            self.delays_ms.append(max(0.0, (time.monotonic() - due) * 1000))

    def summary(self) -> dict:
        ordered = sorted(self.delays_ms)
        if not ordered:
            return {}
        return {"p50": round(ordered[len(ordered) // 2], 2), "p99": round(ordered[int(len(ordered) * 0.99)], 2),
                "max": round(ordered[-1], 2)}  # fmt: skip


class MediaServer:
    def __init__(self, hooks: session.AppHooks, agent_open_timeout: float):
        self.hooks = hooks
        self.agent_open_timeout = agent_open_timeout
        self.executor = ThreadPoolExecutor(SLOW_WORK_THREADS, thread_name_prefix="media-slow")
        self.calls = 0
        self.lag = LoopLag()

    def process_request(self, connection, request):
        """Plain HTTP on the same port: the health check; anything but the stream path is not here."""
        path = urlsplit(request.path).path
        if path == HEALTH_PATH:
            health = {"ok": True, "calls": self.calls, "loop_lag_ms": self.lag.summary()}
            response = connection.respond(200, json.dumps(health) + "\n")
            response.headers["Content-Type"] = "application/json"
            return response
        if path != session.STREAM_PATH:
            return connection.respond(404, "Not found\n")
        return None

    async def _slow(self, work, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, work, *args)

    async def stream(self, ws) -> None:
        """One Twilio media stream, bridged to the agent until either side ends."""
        twilio = Outbox(ws)
        bridge = Bridge(twilio, self.hooks)
        self.calls += 1
        try:
            if await self._open(ws, bridge):
                await self._relay(ws, bridge, twilio)
        except stream.StreamProtocolError as exc:
            bridge.stream_failed(exc)
        except ConnectionClosed:
            bridge.stream_closed()
        finally:
            self.calls -= 1
            bridge.end()
            await twilio.finish()
            if bridge.agent is not None:
                await bridge.agent.finish()

    async def _open(self, ws, bridge: Bridge) -> bool:
        while not bridge.on_opening(await ws.recv()):
            pass
        try:
            context = await self._slow(self.hooks.authorize, bridge.start.parameters, bridge.start.call_sid)
        except StreamRefused as exc:
            bridge.refuse(exc)
            return False
        bridge.begin(context, await self._slow(self.hooks.controls, context.call_id))
        try:
            url = await self._slow(self.hooks.agent_url, context)
            agent_ws = await connect(url, compression=None, max_size=MAX_FRAME_BYTES, max_queue=None,
                                     open_timeout=self.agent_open_timeout)  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - any failure to reach the agent ends the call with its reason
            bridge.agent_unreachable(exc)
            return False
        bridge.agent_opened(Outbox(agent_ws))
        await bridge.agent.flush()
        return True

    async def _relay(self, ws, bridge: Bridge, twilio: Outbox) -> None:
        agent = bridge.agent

        async def from_agent():
            code, reason = None, ""
            try:
                async for raw in agent.ws:
                    bridge.on_agent_message(raw)
                    await twilio.flush()
                    await agent.flush()
            except ConnectionClosed:
                pass
            except Exception:  # a message the bridge could not handle: the conversation cannot go on
                log.exception("call %s: an agent message could not be handled", bridge.context.call_id)
                code, reason = 1011, "a message could not be handled"
            bridge.on_agent_close(code or agent.ws.close_code or 1006, reason or agent.ws.close_reason or "")
            await twilio.flush()
            await agent.flush()

        async def ticks():
            while True:
                await asyncio.sleep(TICK_SECONDS)
                if bridge.tick():
                    twilio.close()
                await twilio.flush()
                await agent.flush()

        helpers = [asyncio.create_task(from_agent()), asyncio.create_task(ticks())]
        try:
            async for raw in ws:
                over = bridge.on_twilio(raw)
                await agent.flush()
                await twilio.flush()
                if over:
                    return
            bridge.stream_closed()
        finally:
            for helper in helpers:
                helper.cancel()


async def serve_media(app, host: str, port: int) -> None:
    """Serve until SIGTERM or SIGINT, then let the writer record what the closed streams queued."""
    server = MediaServer(session.AppHooks(app), app.config["PROVIDER_TIMEOUT_SECONDS"])
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))
    gc.freeze()  # the app's long-lived objects: the collector no longer walks them on each pass
    async with serve(server.stream, host, port, process_request=server.process_request, compression=None,
                     max_size=MAX_FRAME_BYTES, max_queue=None):  # fmt: skip
        log.info("media process serving ws://%s:%s%s", host, port, session.STREAM_PATH)
        probe = asyncio.create_task(server.lag.run())
        await stop
        probe.cancel()
    if not await loop.run_in_executor(None, server.hooks.writer.wait_idle, SHUTDOWN_WRITES_SECONDS):
        log.warning("stopped with bridge records still unwritten")
