"""The whole path with a real worker, real Redis and real HTTP/WebSocket clients:
task → call → live socket → transcript → report → recording (Range) → signed webhook."""

import hashlib
import hmac
import io
import json
import wave

import pytest
import requests

from tests.emulators import WebhookReceiver
from tests.support import scaled, wait_until, watch_call_socket


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


def _http(live_server, tenant):
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {tenant.key}"
    return lambda method, path, **kw: session.request(method, f"{live_server}/api/v1{path}", timeout=scaled(30), **kw)


def _verify_signature(secret: str, header: str, body: bytes) -> None:
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(parts["v1"], expected)


def test_task_to_call_to_transcript_report_recording_and_webhook(live_server, worker, tenant, receiver):
    api = _http(live_server, tenant)
    agent = tenant.agent(starting_message="Hello {{customer_name}}, this is Acme about order {{order_id}}.")
    task = tenant.task(
        agent["id"], webhook_url=f"{receiver.url}/hooks", webhook_events=["call_started", "call_completed"]
    )

    executed = api("POST", f"/tasks/{task['id']}/execute").json()
    assert executed["success"] and executed["data"]["message"] == "Call initiated"
    call_id = executed["data"]["call_id"]

    live = api("GET", f"/calls/{call_id}/live").json()["data"]
    assert live["websocket_url"].startswith("ws://") and live["websocket_url"].endswith(f"/ws/calls/{call_id}")
    messages, done = watch_call_socket(live, ping=True)
    assert done.wait(scaled(60)), "the socket never saw the call end"

    kinds = [m["type"] for m in messages]
    assert kinds[0] == "connected" and "pong" in kinds
    updates = [m for m in messages if m["type"] == "transcript_update"]
    assert updates, kinds
    assert all(m["data"]["call_id"] == call_id and m["data"]["new_turns"] for m in updates)
    assert messages[-1]["data"]["status"] == "completed"
    streamed = updates[-1]["data"]["transcript"]
    assert "Jane Roe" in streamed[0]["text"] and "A-1001" in streamed[0]["text"]

    call = wait_until(
        lambda: (c := api("GET", f"/calls/{call_id}").json()["data"])["report"] and c, message="report stored"
    )
    assert call["status"] == "completed" and call["end_reason"] in ("ended_by_agent", "ended_by_callee")
    assert call["transcript"] == streamed
    assert api("GET", f"/tasks/{task['id']}").json()["data"]["status"] == "completed"

    transcript = api("GET", f"/calls/{call_id}/transcript").json()["data"]["transcript"]
    assert transcript == streamed and all(t["end_seconds"] >= t["start_seconds"] for t in transcript)

    report = api("GET", f"/calls/{call_id}/report").json()["data"]
    assert report["source"] == "local" and report["metrics"]["turns"] == len(transcript)
    assert report["metrics"]["agent_talk_seconds"] > 0 and report["summary"]

    recording = wait_until(lambda: api("GET", f"/calls/{call_id}/recording").json().get("data"), message="recording")
    assert f"/api/v1/calls/{call_id}/recording/stream?token=" in recording["recording_url"]
    whole = api("GET", f"/calls/{call_id}/recording/stream")
    assert whole.status_code == 200 and whole.headers["Content-Type"] == "audio/wav"
    with wave.open(io.BytesIO(whole.content)) as audio:
        assert audio.getnframes() / audio.getframerate() >= transcript[-1]["end_seconds"]
    part = api("GET", f"/calls/{call_id}/recording/stream", headers={"Range": "bytes=100-1099"})
    assert part.status_code == 206 and part.content == whole.content[100:1100]
    assert part.headers["Content-Range"] == f"bytes 100-1099/{len(whole.content)}"

    hooks = wait_until(lambda: len(receiver.requests) >= 2 and receiver.requests, message="two webhooks")
    secret = tenant.org.webhook_secret
    by_event = {r.headers["X-Webhook-Event"]: r for r in hooks}
    assert set(by_event) == {"call_started", "call_completed"}
    for event, hook in by_event.items():
        _verify_signature(secret, hook.headers["X-Webhook-Signature"], hook.raw)
        body = json.loads(hook.raw)
        assert body["event_type"] == event and body["call_id"] == call_id and body["task_id"] == task["id"]
        assert body["event_id"] == hook.headers["X-Webhook-Id"] and body["occurred_at"].endswith("Z")
    completed = json.loads(by_event["call_completed"].raw)
    assert completed["status"] == "completed" and completed["data"]["report_excerpt"]
    deliveries = api("GET", f"/calls/{call_id}/webhook-deliveries").json()["data"]
    assert {d["event_type"]: d["status"] for d in deliveries} == {
        "call_started": "delivered",
        "call_completed": "delivered",
    }
    assert all(d["attempts"][0]["status_code"] == 200 for d in deliveries)
