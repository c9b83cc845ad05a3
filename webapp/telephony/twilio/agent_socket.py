"""A WebSocket client for the agent conversation socket whose messages are handled in its own
reader thread as they arrive (no extra thread or queue hop between the agent and Twilio)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable

from simple_websocket import Client, ConnectionClosed

NORMAL_CLOSURE = 1000


def no_delay(sock) -> None:
    """Small frames every 20 ms: send each at once instead of waiting for the previous ACK
    (Nagle's algorithm with delayed ACKs holds them up to 40 ms)."""
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    except (OSError, AttributeError):
        pass


class AgentSocket(Client):
    """`on_message(text)` runs in the reader thread for each message; `on_close(code, reason)`
    once, when the connection ends (code 1000: the agent ended the conversation)."""

    def __init__(self, url: str, on_message: Callable[[str], None], on_close: Callable[[int, str], None], **kw):
        self._on_message = on_message
        self._on_close = on_close
        self._send_lock = threading.Lock()
        self._closed_once = threading.Event()
        super().__init__(url, **kw)
        no_delay(self.sock)

    def _handle_events(self):
        keep_going = super()._handle_events()
        while self.input_buffer:
            self._on_message(self.input_buffer.pop(0))
        return keep_going

    def _thread(self):
        try:
            super()._thread()
        finally:
            self._closed()

    def _closed(self) -> None:
        if not self._closed_once.is_set():
            self._closed_once.set()
            self._on_close(int(self.close_reason or 1006), self.close_message or "")

    def send(self, data) -> bool:
        """Send unless closed; returns whether it was sent."""
        with self._send_lock:
            try:
                super().send(data)
                return True
            except (ConnectionClosed, OSError):
                return False

    def close(self, reason=None, message=None) -> None:
        with self._send_lock:
            try:
                super().close(reason, message)
            except (ConnectionClosed, OSError):
                pass
