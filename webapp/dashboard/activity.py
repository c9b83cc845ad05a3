"""/ws/activity: tells a dashboard page that one of its organization's calls changed status, so
its lists refresh themselves (a call started from the API appears without a reload). The page
polls only while something runs; while nothing does, this socket is all it keeps open."""

import json
import queue
import time

from flask import current_app
from simple_websocket import ConnectionClosed

from .. import events
from ..extensions import db, sock
from ..models import Call
from ..sockets import end_werkzeug_stream
from .access import org_id
from .blueprint import bp

KEEPALIVE_SECONDS = 20
WAIT_SECONDS = 1.0


def _owner_of(call_id: str, cache: dict[str, str | None]) -> str | None:
    if call_id not in cache:
        cache[call_id] = db.session.execute(
            db.select(Call.organization_id).where(Call.id == call_id)
        ).scalar_one_or_none()
        db.session.remove()  # hold no connection while waiting for the next event
        if len(cache) > 10_000:
            cache.clear()
    return cache[call_id]


@sock.route("/ws/activity", bp=bp)
def activity_socket(ws):
    """Session-authenticated (the dashboard's before_request ran); sends {"type": "activity", data:
    {call_id, status}} for each status change of this organization's calls."""
    organization = org_id()
    db.session.remove()
    fanout = events.fanout_for(current_app.config["REDIS_URL"], current_app.config["REDIS_NAMESPACE"])
    inbox = fanout.watch_all()
    owners: dict[str, str | None] = {}
    last_sent = time.monotonic()
    try:
        ws.send(json.dumps(events.message("connected", {})))
        while True:
            if ws.receive(timeout=0) is None and not ws.connected:
                return
            try:
                call_id, message = inbox.get(timeout=WAIT_SECONDS)
            except queue.Empty:
                if time.monotonic() - last_sent > KEEPALIVE_SECONDS:  # also finds closed sockets
                    ws.send(json.dumps(events.message("keepalive", {})))
                    last_sent = time.monotonic()
                continue
            if message["type"] != "call_status_update" or _owner_of(call_id, owners) != organization:
                continue
            ws.send(json.dumps(events.message("activity", {"call_id": call_id, "status": message["data"]["status"]})))
            last_sent = time.monotonic()
    except ConnectionClosed:
        pass
    finally:
        fanout.unwatch_all(inbox)
        db.session.remove()
        end_werkzeug_stream(ws)
