"""A webhook receiver in its own process: answers every POST with 200 and keeps the arrival time of
each event; GET /stats returns them. `python -m bench.receiver --port N`."""

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import requests

_arrivals: list[tuple[float, str, str, str]] = []  # (time, X-Webhook-Id, X-Webhook-Event, path)
_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a production receiver would
    disable_nagle_algorithm = True  # else the body waits for the client's delayed ACK of the headers (40 ms)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with _lock:
            _arrivals.append(
                (time.time(), self.headers.get("X-Webhook-Id", ""), self.headers.get("X-Webhook-Event", ""), self.path)
            )
        self._reply(b'{"ok":true}')

    def do_GET(self):
        """GET /stats, or /stats?path=/hooks for the POSTs to that path only."""
        path = parse_qs(urlsplit(self.path).query).get("path", [None])[0]
        with _lock:
            arrivals = [arrival for arrival in _arrivals if path is None or arrival[3] == path]
        times = [at for at, _, _, _ in arrivals]
        by_event: dict[str, int] = {}
        for _, _, event, _ in arrivals:
            by_event[event] = by_event.get(event, 0) + 1
        stats = {
            "count": len(arrivals),
            "unique": len({delivery for _, delivery, _, _ in arrivals}),
            "first": min(times, default=None),
            "last": max(times, default=None),
            "by_event": by_event,
        }
        self._reply(json.dumps(stats).encode())

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        pass


class Receiver:
    """The receiver process, started and stopped by a benchmark."""

    def __init__(self, env, port: int):
        from .env import Process, wait_for_http

        self.url = f"http://127.0.0.1:{port}"
        self.process = Process(
            "receiver", [sys.executable, "-m", "bench.receiver", "--port", str(port)], env.environ(), env.workdir
        )
        wait_for_http(self.url + "/stats")

    def stats(self, path: str | None = None) -> dict:
        return requests.get(self.url + "/stats", params={"path": path} if path else None, timeout=10).json()

    def stop(self) -> None:
        self.process.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    server = ThreadingHTTPServer(("127.0.0.1", parser.parse_args().port), Handler)
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
