"""/ws/calls/<call_id>: the live transcript of one call, fed by the process's event fan-out."""

import json
import logging
import queue
import socket
import time

from flask import Blueprint, current_app, request
from simple_websocket import ConnectionClosed

from .. import events
from ..errors import AppError
from ..extensions import db, sock
from ..identity import authenticate_api_key
from ..models import Call
from ..services import live
from ..services.call_queries import get_call

log = logging.getLogger(__name__)

bp = Blueprint("sockets", __name__)

MESSAGE_TYPES = ["connected", "transcript_update", "call_status_update", "error", "pong"]
IDLE_POLL_SECONDS = 1.0
STATUS_CHECK_SECONDS = 5.0  # an idle socket reads its call's status this often (a missed end closes it)
FELL_BEHIND = "This connection fell too far behind the call and was dropped; reconnect to resume"


def _send(ws, type_: str, data: dict) -> None:
    ws.send(json.dumps(events.message(type_, data)))


def _send_error(ws, message: str) -> None:
    """{type: "error", error: <message>, data: {message}, timestamp}: `error` at the top, as the
    contract shows, and `data.message` like every other message's data."""
    ws.send(json.dumps({**events.message("error", {"message": message}), "error": message}))


def _authorize(call_id: str) -> Call:
    """The call, if the api_key or session_token in the query string may see it."""
    token = request.args.get("session_token")
    if token:
        org_id = live.read_token(token, call_id)
    else:
        org_id = authenticate_api_key(request.args.get("api_key")).organization_id
    return get_call(org_id, call_id)  # NotFound for another organization's call or a malformed id


def _status_data(call: Call) -> dict:
    return {"call_id": call.id, "status": call.status, "failure_reason": call.failure_reason,
            "end_reason": call.end_reason}  # fmt: skip


def _answer_client(ws) -> None:
    """Reply to keepalive pings without blocking the stream."""
    while True:
        raw = ws.receive(timeout=0)
        if raw is None:
            return
        try:
            incoming = json.loads(raw)
        except ValueError:
            _send_error(ws, "Messages must be JSON")
            continue
        if isinstance(incoming, dict) and incoming.get("type") == "ping":
            _send(ws, "pong", {})


@sock.route("/ws/calls/<call_id>", bp=bp)
def call_socket(ws, call_id: str):
    fanout = events.fanout_for(current_app.config["REDIS_URL"], current_app.config["REDIS_NAMESPACE"])
    inbox = fanout.watch(call_id)  # before reading the call, so no update falls in between
    try:
        try:
            call = _authorize(call_id)
        except (live.TokenRejected, AppError) as exc:
            _send_error(ws, getattr(exc, "message", str(exc)))
            return
        _send(ws, "connected", {**_status_data(call), "transcript": call.transcript})
        active = call.is_active
        db.session.remove()  # the stream below holds no database connection
        if not active:
            _send(ws, "call_status_update", _status_data(call))
            return
        _stream(ws, inbox, call_id)
    except ConnectionClosed:
        pass
    finally:
        fanout.unwatch(call_id, inbox)
        db.session.remove()
        end_werkzeug_stream(ws)


def end_werkzeug_stream(ws) -> None:
    """Werkzeug's dev server writes an HTTP response after the socket handler returns, which browsers
    read as a corrupt frame ("Invalid frame header"). Close, then shut the socket for writing: the
    server then drops that response (it ignores ConnectionError)."""
    if ws.mode != "werkzeug":
        return
    try:
        if ws.connected:
            ws.close()
        ws.sock.shutdown(socket.SHUT_WR)
    except (OSError, ConnectionClosed):
        pass


def _stream(ws, inbox: events.Inbox, call_id: str) -> None:
    checked = time.monotonic()
    while True:
        _answer_client(ws)
        if inbox.overflowed.is_set():
            _send(ws, "error", {"message": FELL_BEHIND})
            return
        try:
            message = inbox.get(timeout=IDLE_POLL_SECONDS)
        except queue.Empty:
            if time.monotonic() - checked >= STATUS_CHECK_SECONDS:
                checked = time.monotonic()
                ended = _ended(call_id)
                if ended is not None:  # its terminal event never reached this process
                    _send(ws, "call_status_update", ended)
                    return
            continue
        ws.send(json.dumps(message))
        if message["type"] == "call_status_update" and message["data"]["status"] in ("completed", "failed"):
            return


def _ended(call_id: str) -> dict | None:
    """The call's final status, if it is over (a short read; no connection is held afterwards)."""
    try:
        call = db.session.get(Call, call_id)
        return _status_data(call) if call is not None and not call.is_active else None
    finally:
        db.session.remove()
