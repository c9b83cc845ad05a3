"""Live fan-out limits: a watcher that stops reading is dropped once it falls INBOX_LIMIT messages
behind (not buffered without end), and a socket whose call ended closes even if the terminal event
never reached its process."""

import json
import uuid

import websocket

from tests.support import scaled, wait_until
from webapp import events


def test_a_reader_that_falls_behind_is_dropped(app):
    from webapp.queues import redis_client

    fanout = events.Fanout(app.config["REDIS_URL"], f"fanout-{uuid.uuid4().hex[:8]}")
    call_id = str(uuid.uuid4())
    slow, quick = fanout.watch(call_id), fanout.watch(call_id)
    for number in range(events.INBOX_LIMIT + 1):
        events.publish(redis_client(), fanout.channel.rsplit(":", 1)[0], call_id, {"n": number})
        if number % 100 == 0:  # the quick reader keeps up (the last one, INBOX_LIMIT, included)
            wait_until(lambda n=number: _drain(quick, n), timeout=30, message=f"the quick reader's message {number}")
    assert slow.overflowed.wait(scaled(30))
    assert slow.qsize() == events.INBOX_LIMIT
    assert not quick.overflowed.is_set()
    assert fanout._watchers[call_id] == {quick}


def _drain(inbox, wanted: int) -> bool:
    while not inbox.empty():
        if inbox.get_nowait()["n"] == wanted:
            return True
    return False


def test_a_socket_closes_when_its_call_ended_without_it_hearing(app, live_server, tenant):
    from webapp.extensions import db
    from webapp.models import Call

    task = tenant.task()
    call = Call(organization_id=tenant.org_id, task_id=task["id"], agent_id=task["agent_id"],
                to_number=task["to_number"], status="in_progress", provider="simulated")  # fmt: skip
    db.session.add(call)
    db.session.commit()
    call_id = call.id
    url = live_server.replace("http://", "ws://") + f"/ws/calls/{call_id}?api_key={tenant.key}"
    ws = websocket.create_connection(url, timeout=scaled(30))
    try:
        assert json.loads(ws.recv())["type"] == "connected"
        db.session.get(Call, call_id).status = "completed"  # no event published: the socket must notice
        db.session.commit()
        update = json.loads(ws.recv())
        assert update["type"] == "call_status_update" and update["data"]["status"] == "completed"
        ws.settimeout(scaled(10))
        try:
            leftover = ws.recv()
        except websocket.WebSocketConnectionClosedException:
            leftover = ""
        assert not leftover
    finally:
        ws.close()
        db.session.remove()
