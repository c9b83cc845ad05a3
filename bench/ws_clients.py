"""WebSocket clients in a process of their own (asyncio, `websockets`), so that receiving does not
compete with the benchmark's own threads. Each client records when every message arrived."""

import asyncio
import json
import multiprocessing
import queue
import time

import websockets

TERMINAL = ("completed", "failed")


def _summary(message: dict) -> dict:
    """The parts of a message the benchmarks measure."""
    data = message.get("data") or {}
    kept = {"type": message.get("type"), "status": data.get("status"), "sent_at": data.get("bench_sent_at"),
            "stamped_at": message.get("timestamp")}  # fmt: skip
    if message.get("type") == "transcript_update":
        kept["new_turns"] = [(t["role"], t["start_seconds"], t["end_seconds"]) for t in data.get("new_turns", [])]
    return kept


async def _watch(call_id: str, url: str, deadline: float, records: list, events: multiprocessing.Queue) -> None:
    try:
        async with websockets.connect(url, max_size=None, open_timeout=60, ping_interval=None) as ws:
            while (remaining := deadline - time.time()) > 0:
                try:
                    raw = await asyncio.wait_for(ws.recv(), timeout=remaining)
                except (TimeoutError, websockets.ConnectionClosed):
                    return
                received = time.time()
                message = _summary(json.loads(raw))
                records.append((call_id, received, message))
                if message["type"] == "connected":
                    events.put(("connected", call_id))
                if message["type"] in ("call_status_update", "connected") and message["status"] in TERMINAL:
                    return
    except (OSError, websockets.WebSocketException) as exc:
        records.append((call_id, time.time(), {"type": "client_error", "status": repr(exc)[:200]}))


async def _run(targets: multiprocessing.Queue, events: multiprocessing.Queue, seconds: float) -> list:
    deadline = time.time() + seconds
    records: list = []
    watchers = []
    loop = asyncio.get_running_loop()
    while True:
        target = await loop.run_in_executor(None, targets.get)
        if target is None:
            break
        watchers.append(asyncio.create_task(_watch(*target, deadline, records, events)))
    await asyncio.gather(*watchers)
    return records


def _main(targets: multiprocessing.Queue, events: multiprocessing.Queue, seconds: float) -> None:
    events.put(("done", asyncio.run(_run(targets, events, seconds))))


class Clients:
    """Start with `Clients(seconds)`, `add(call_id, url)` sockets (None ends the list with `close()`),
    wait for connections with `wait_connected(n)`, then `results()` once every socket is done."""

    def __init__(self, seconds: float):
        context = multiprocessing.get_context("spawn")
        self.targets = context.Queue()
        self.events = context.Queue()
        self.connected = 0
        self._records = None
        self.process = context.Process(target=_main, args=(self.targets, self.events, seconds), daemon=True)
        self.process.start()

    def add(self, call_id: str, url: str) -> None:
        self.targets.put((call_id, url))

    def close(self) -> None:
        self.targets.put(None)

    def _drain(self, timeout: float) -> None:
        kind, value = self.events.get(timeout=timeout)
        if kind == "connected":
            self.connected += 1
        else:
            self._records = value

    def wait_connected(self, count: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.connected < count and self._records is None:
            try:
                self._drain(max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise TimeoutError(f"only {self.connected} of {count} sockets connected") from None

    def results(self, timeout: float) -> list:
        deadline = time.monotonic() + timeout
        while self._records is None:
            self._drain(max(0.01, deadline - time.monotonic()))
        self.process.join(timeout=10)
        return self._records
