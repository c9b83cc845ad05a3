"""ElevenLabs post-call webhooks and Twilio status callbacks into the app over real HTTP. The
calls are frozen at the emulator once placed, so only the webhooks a test sends move them."""

import json
import time

import pytest
import requests

from tests.emulators import NO_ANSWER_NUMBER, WebhookReceiver
from tests.provider.helpers import finished, freeze, placed, start_call
from tests.support import scaled, wait_until

pytestmark = pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated")


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server


@pytest.fixture
def hooks(site, emulator):
    elevenlabs_url = f"{site.url}/webhooks/elevenlabs"
    twilio_url = f"{site.url}/webhooks/twilio/status"

    class Hooks:
        @staticmethod
        def elevenlabs(kind, conversation_id, **kwargs) -> requests.Response:
            return emulator.send_elevenlabs_webhook(elevenlabs_url, kind, conversation_id, **kwargs)

        @staticmethod
        def post_elevenlabs(body: bytes, headers: dict) -> requests.Response:
            return requests.post(elevenlabs_url, data=body, headers=headers, timeout=scaled(10))

        @staticmethod
        def twilio(call_sid, status, **kwargs) -> requests.Response:
            return emulator.send_twilio_status_callback(twilio_url, call_sid, status, **kwargs)

    return Hooks


def _frozen_call(account, emulator, to_number=None, **task_fields) -> dict:
    call = placed(account, start_call(account, **({"to_number": to_number} if to_number else {}), **task_fields))
    freeze(emulator, call["provider_call_id"])
    return account.http.data(f"/calls/{call['id']}")


def _answer(response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def test_bad_signatures_and_bodies_are_refused_and_change_nothing(account, emulator, hooks):
    call = _frozen_call(account, emulator)
    conversation_id = call["provider_call_id"]
    emulator.finish(conversation_id)
    body, headers = emulator.build_elevenlabs_webhook("post_call_transcription", conversation_id)

    wrong_secret = hooks.elevenlabs("post_call_transcription", conversation_id, secret="not-the-secret")
    assert "does not match" in _answer(wrong_secret, 401)["error"]
    stale = hooks.elevenlabs("post_call_transcription", conversation_id, timestamp=time.time() - 3600)
    assert "tolerance" in _answer(stale, 401)["error"]
    unsigned = hooks.post_elevenlabs(body, {"Content-Type": "application/json"})
    assert "Missing" in _answer(unsigned, 401)["error"]
    garbage = b"{not json"
    signed_garbage = {"ElevenLabs-Signature": emulator.sign_elevenlabs(garbage)}
    assert _answer(hooks.post_elevenlabs(garbage, signed_garbage), 400)["received"] is False
    no_data = json.dumps({"type": "post_call_transcription"}).encode()
    assert _answer(hooks.post_elevenlabs(no_data, {"ElevenLabs-Signature": emulator.sign_elevenlabs(no_data)}), 400)

    forged = hooks.twilio(emulator.calls[conversation_id].call_sid, "busy", auth_token="not-the-token")
    assert _answer(forged, 403)["received"] is False

    assert account.http.data(f"/calls/{call['id']}") == call
    assert _answer(hooks.post_elevenlabs(body, headers))["applied"] is True  # the genuine delivery still counts
    assert account.http.data(f"/calls/{call['id']}")["status"] == "completed"


def test_post_call_webhooks_complete_the_call_once(account, emulator, hooks, receiver):
    call = _frozen_call(account, emulator, webhook_url=f"{receiver.url}/hooks", webhook_events=["call_completed"])
    conversation_id = call["provider_call_id"]
    emulator.finish(conversation_id)
    body, headers = emulator.build_elevenlabs_webhook("post_call_transcription", conversation_id)

    first = _answer(hooks.post_elevenlabs(body, headers))
    assert first == {"received": True, "applied": True, "call_id": call["id"]}
    assert _answer(hooks.post_elevenlabs(body, headers))["applied"] is False  # the same delivery again

    done = finished(account, call["id"])
    assert (done["status"], done["end_reason"]) == ("completed", "ended_by_agent")
    assert len(done["transcript"]) == 5 and done["duration_seconds"] > 20 and done["cost_credits"] > 0
    assert done["report"]["source"] == "provider" and done["report"]["call_successful"] is True

    audio = _answer(hooks.elevenlabs("post_call_audio", conversation_id))
    assert audio["applied"] is True
    assert _answer(hooks.elevenlabs("post_call_audio", conversation_id))["applied"] is False
    stream = account.http.get(f"/calls/{call['id']}/recording/stream", headers={"Range": "bytes=0-2"})
    assert stream.status_code == 206 and stream.content == b"ID3"

    call_sid = emulator.calls[conversation_id].call_sid
    for late in ("ringing", "in-progress", "completed"):  # Twilio callbacks arriving after the end
        assert _answer(hooks.twilio(call_sid, late))["applied"] is False
    assert _answer(hooks.elevenlabs("post_call_transcription", conversation_id))["applied"] is False
    after = account.http.data(f"/calls/{call['id']}")
    stored = {"has_recording": True, "recording_status": "stored", "recording_note": None}
    assert after == {**done, **stored, "updated_at": after["updated_at"]}

    deliveries = wait_until(
        lambda: account.http.data(f"/calls/{call['id']}/webhook-deliveries"), message="the call_completed webhook"
    )
    assert [d["event_type"] for d in deliveries] == ["call_completed"]
    sent = wait_until(lambda: receiver.requests, message="the webhook delivered")
    assert json.loads(sent[0].raw)["status"] == "completed"


def test_twilio_status_callbacks_follow_the_phone_leg_forward_only(account, emulator, hooks):
    ringing = _frozen_call(account, emulator, NO_ANSWER_NUMBER)
    assert ringing["status"] == "initiated"
    call_sid = emulator.calls[ringing["provider_call_id"]].call_sid

    assert _answer(hooks.twilio(call_sid, "ringing"))["applied"] is False
    assert _answer(hooks.twilio(call_sid, "no-answer"))["applied"] is True
    assert _answer(hooks.twilio(call_sid, "no-answer"))["applied"] is False
    failed = account.http.data(f"/calls/{ringing['id']}")
    assert (failed["status"], failed["failure_reason"]) == ("failed", "no_answer")
    for late in ("ringing", "in-progress", "completed"):
        assert _answer(hooks.twilio(call_sid, late))["applied"] is False
    after = account.http.data(f"/calls/{ringing['id']}")
    assert (after["status"], after["failure_reason"], after["updated_at"]) == (
        "failed", "no_answer", failed["updated_at"],
    )  # fmt: skip

    answered = _frozen_call(account, emulator, NO_ANSWER_NUMBER)
    answered_sid = emulator.calls[answered["provider_call_id"]].call_sid
    assert _answer(hooks.twilio(answered_sid, "in-progress"))["applied"] is True
    assert account.http.data(f"/calls/{answered['id']}")["status"] == "in_progress"
    # Twilio's "completed" says the line hung up; the verdict (completed or voicemail) is ElevenLabs'.
    assert _answer(hooks.twilio(answered_sid, "completed"))["applied"] is False
    assert account.http.data(f"/calls/{answered['id']}")["status"] == "in_progress"
    assert account.http.post(f"/calls/{answered['id']}/cancel").status_code == 200


def test_initiation_failure_and_unknown_events_answer_200(account, emulator, hooks, site):
    call = _frozen_call(account, emulator, NO_ANSWER_NUMBER)
    failure = _answer(hooks.elevenlabs("call_initiation_failure", call["provider_call_id"]))
    assert failure["applied"] is True
    failed = account.http.data(f"/calls/{call['id']}")
    assert (failed["status"], failed["failure_reason"], failed["error_message"]) == (
        "failed", "no_answer", "Nobody answered.",
    )  # fmt: skip

    for payload in (
        {"type": "post_call_transcription", "event_timestamp": int(time.time()),
         "data": {"conversation_id": "conv_nobody_knows", "status": "done", "transcript": []}},
        {"type": "voice_removal_notice", "event_timestamp": int(time.time()), "data": {"voice_id": "v1"}},
    ):  # fmt: skip
        body = json.dumps(payload).encode()
        answer = _answer(hooks.post_elevenlabs(body, {"ElevenLabs-Signature": emulator.sign_elevenlabs(body)}))
        assert answer["applied"] is False and answer["call_id"] is None and answer["note"]
    unknown_sid = hooks.twilio("CA" + "f" * 32, "completed")
    assert _answer(unknown_sid)["applied"] is False
