"""SIGKILL the worker at each point of a call's life, then start a new one: the call ends final,
with its report and its recording (or a definitive "none") stored, each subscribed webhook
delivered at least once under one stable X-Webhook-Id, and nothing duplicated in the database.

Each test runs an isolated deployment (gunicorn, workers, its own Redis and database) whose calls
go through the ElevenLabs emulator, which holds the request the doomed worker is making, so the
kill lands exactly there. The first worker never polls (its sync interval is an hour): the call is
moved by the provider webhooks the test sends, except at the "in progress" point."""

import json

import pytest

from tests.emulators import ProviderEmulator
from tests.reliability.stack import api_session
from tests.support import wait_until

CONVERSATIONS = "/v1/convai/conversations/"
OUTBOUND_CALL = "/v1/convai/twilio/outbound-call"
HOLD_SECONDS = 20  # a held request outlives the worker that made it (killed within a second)
EVENTS = ["call_started", "call_completed", "call_failed"]

pytestmark = pytest.mark.slow


@pytest.fixture
def emulator():
    server = ProviderEmulator(clock="polls", step_seconds=4.0).start()
    yield server
    server.stop()


@pytest.fixture
def deployment(make_stack, emulator, receiver):
    stack = make_stack(
        TELEPHONY_PROVIDER="elevenlabs",
        ELEVENLABS_API_KEY=emulator.api_key,
        ELEVENLABS_API_BASE_URL=emulator.url,
        ELEVENLABS_AGENT_PHONE_NUMBER_ID=emulator.phone_number_id,
        ELEVENLABS_WEBHOOK_SECRET=emulator.webhook_secret,
        TWILIO_ACCOUNT_SID=emulator.twilio_account_sid,
        TWILIO_AUTH_TOKEN=emulator.twilio_auth_token,
        TWILIO_API_BASE_URL=emulator.url,
        PROVIDER_TIMEOUT_SECONDS=HOLD_SECONDS + 5,  # the held request never times out under the first worker
        WEBHOOK_TIMEOUT_SECONDS=HOLD_SECONDS + 5,
        REDISPATCH_AFTER_SECONDS=1,
        SWEEP_INTERVAL_SECONDS=0.3,
        SYNC_INTERVAL_SECONDS=0.2,
        AGENT_SYNC_RETRY_SECONDS=0.5,
        CALL_PLACE_TIMEOUT_SECONDS=2,
    )
    url = stack.serve()
    api = api_session(url, stack.create_tenant())

    class Deployment:
        def __init__(self):
            self.stack, self.api, self.url = stack, api, url
            self.doomed = stack.worker(SYNC_INTERVAL_SECONDS=3600)

        def call(self) -> dict:
            agent = api("POST", "/agents", json={"name": "Agent", "system_prompt": "You confirm deliveries."})
            task = api("POST", "/tasks", json={
                "agent_id": agent.json()["data"]["id"], "name": "Call Jane", "to_number": "+14155550123",
                "webhook_url": f"{receiver.url}/hooks", "webhook_events": EVENTS})  # fmt: skip
            assert task.status_code == 201, task.text
            executed = api("POST", f"/tasks/{task.json()['data']['id']}/execute")
            assert executed.status_code == 200, executed.text
            return self.get(executed.json()["data"]["call_id"])

        def get(self, call_id: str) -> dict:
            return api("GET", f"/calls/{call_id}").json()["data"]

        def placed(self, call_id: str) -> dict:
            return wait_until(lambda: (c := self.get(call_id))["provider_call_id"] and c, message="the call placed")

        def started_delivered(self, call_id: str) -> None:
            wait_until(lambda: self.received(call_id, "call_started"), message="call_started delivered")

        def end(self, call: dict) -> None:
            """The conversation ends at the provider and its post-call webhook reaches the app."""
            emulator.finish(call["provider_call_id"])
            hook = emulator.send_elevenlabs_webhook(f"{url}/webhooks/elevenlabs", "post_call_transcription",
                                                    call["provider_call_id"])  # fmt: skip
            assert hook.status_code == 200 and hook.json()["applied"], hook.text

        def received(self, call_id: str, event: str) -> list:
            return [r for r in receiver.requests if r.json and r.json.get("call_id") == call_id
                    and r.headers.get("X-Webhook-Event") == event]  # fmt: skip

        def kill_and_replace(self) -> None:
            self.doomed.kill()
            stack.worker()

        def settled(self, call_id: str, events: list[str], recording: str) -> dict:
            """Wait for the end state, then check that nothing is missing or duplicated."""

            def done():
                call = self.get(call_id)
                delivered = api("GET", f"/calls/{call_id}/webhook-deliveries").json()["data"]
                ready = call["finalized_at"] and call["recording_status"] == recording
                return ready and all(d["status"] == "delivered" for d in delivered) and len(delivered) == len(
                    events) and (call, delivered)  # fmt: skip

            call, delivered = wait_until(done, timeout=120, message=f"call {call_id} settled")
            assert call["status"] in ("completed", "failed") and call["report"]
            assert sorted(d["event_type"] for d in delivered) == sorted(events)
            for delivery in delivered:
                sent = self.received(call_id, delivery["event_type"])
                assert sent, delivery
                assert {r.headers["X-Webhook-Id"] for r in sent} == {delivery["id"]}
                assert len({json.dumps(r.json, sort_keys=True) for r in sent}) == 1  # the same body each time
                numbers = [a["number"] for a in delivery["attempts"]]
                assert numbers == list(range(1, len(numbers) + 1))
            positions = [(t["start_seconds"], t["text"]) for t in call["transcript"]]
            assert len(positions) == len(set(positions))
            if recording == "stored":
                stream = api("GET", f"/calls/{call_id}/recording/stream")
                assert stream.status_code == 200 and stream.content[:3] in (b"ID3", b"RIF")
            return call

    return Deployment()


def test_killed_while_placing(deployment, emulator):
    emulator.delay_next(HOLD_SECONDS, path_prefix=OUTBOUND_CALL)
    call = deployment.call()
    wait_until(lambda: emulator.requests_to("POST", OUTBOUND_CALL), message="the placement under way")
    deployment.kill_and_replace()
    final = deployment.settled(call["id"], ["call_failed"], recording="none")
    assert final["failure_reason"] == "provider_error" and final["recording_note"]


def test_killed_while_in_progress(deployment, emulator):
    deployment.doomed.kill()
    deployment.doomed = deployment.stack.worker()  # this one polls: the call moves on by itself
    call = deployment.placed(deployment.call()["id"])
    wait_until(lambda: deployment.get(call["id"])["status"] == "in_progress", message="the call answered")
    deployment.kill_and_replace()
    final = deployment.settled(call["id"], ["call_started", "call_completed"], recording="stored")
    assert final["status"] == "completed"


def test_killed_while_finalizing(deployment, emulator):
    call = deployment.placed(deployment.call()["id"])
    deployment.started_delivered(call["id"])
    path = CONVERSATIONS + call["provider_call_id"]
    emulator.delay_next(HOLD_SECONDS, path_prefix=path)  # the final fetch, the first GET of the conversation
    deployment.end(call)
    wait_until(lambda: emulator.requests_to("GET", path), message="the final fetch under way")
    assert deployment.get(call["id"])["finalized_at"] is None
    deployment.kill_and_replace()
    deployment.settled(call["id"], ["call_started", "call_completed"], recording="stored")


def test_killed_while_delivering(deployment, emulator, receiver):
    call = deployment.placed(deployment.call()["id"])
    deployment.started_delivered(call["id"])
    receiver.delay_next(HOLD_SECONDS)  # the call_completed POST hangs
    deployment.end(call)
    wait_until(lambda: deployment.received(call["id"], "call_completed"), message="call_completed under way")
    deployment.kill_and_replace()
    deployment.settled(call["id"], ["call_started", "call_completed"], recording="stored")
    assert len(deployment.received(call["id"], "call_completed")) == 2  # the killed attempt, then the re-send


def test_killed_while_storing_the_recording(deployment, emulator):
    call = deployment.placed(deployment.call()["id"])
    deployment.started_delivered(call["id"])
    audio = CONVERSATIONS + call["provider_call_id"] + "/audio"
    emulator.delay_next(HOLD_SECONDS, path_prefix=audio)
    deployment.end(call)
    wait_until(lambda: emulator.requests_to("GET", audio), message="the recording download under way")
    assert deployment.get(call["id"])["recording_status"] == "pending"
    assert not deployment.received(call["id"], "call_completed")  # the webhook waits for the recording
    deployment.kill_and_replace()
    final = deployment.settled(call["id"], ["call_started", "call_completed"], recording="stored")
    [completed] = deployment.received(call["id"], "call_completed")
    assert completed.json["data"]["artifacts"]["recording"] == "ready"
    assert final["has_recording"]
