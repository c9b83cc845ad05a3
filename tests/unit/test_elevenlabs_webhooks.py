"""ElevenLabs post-call webhooks and Twilio status callbacks: signatures and parsing."""

from __future__ import annotations

import json
import time

import pytest
from elevenlabs import ElevenLabs

from tests.emulators import (
    BUSY_NUMBER,
    NO_ANSWER_NUMBER,
    ProviderEmulator,
    WebhookReceiver,
)
from webapp.telephony.elevenlabs.webhooks import (
    ProviderEvent,
    WebhookPayloadError,
    WebhookSignatureError,
    parse_elevenlabs_event,
    parse_twilio_status,
    verify_elevenlabs_signature,
    verify_twilio_signature,
)

# elevenlabs 2.78 reads pydantic v1 attributes while parsing responses
pytestmark = pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated")

STATUS_URL = "https://app.example.com/webhooks/twilio/status?call=call_1"


@pytest.fixture
def emulator():
    server = ProviderEmulator().start()
    yield server
    server.stop()


def place(emulator, to_number="+14155550123"):
    """Create an agent and a call directly on the emulator; returns the conversation id."""
    from webapp.telephony.base import AgentSpec, CallRequest
    from webapp.telephony.elevenlabs import ElevenLabsProvider

    provider = ElevenLabsProvider(emulator.api_key, emulator.url, emulator.phone_number_id)
    agent = AgentSpec("a1", "Agent", "Be brief.", "Hello!", {}, {})
    request = CallRequest("call_1", to_number, agent, None, {"customer_name": "Ann"})
    return provider.place_call(request).provider_call_id


# -- ElevenLabs signature ----------------------------------------------------------------
def test_valid_signature_passes_and_matches_the_sdk(emulator):
    conversation_id = place(emulator)
    body, headers = emulator.build_elevenlabs_webhook("post_call_transcription", conversation_id)

    verify_elevenlabs_signature(body, headers["ElevenLabs-Signature"], emulator.webhook_secret)

    sdk_event = ElevenLabs(api_key="unused").webhooks.construct_event(
        body.decode(), headers["ElevenLabs-Signature"], emulator.webhook_secret
    )
    assert sdk_event == json.loads(body)


@pytest.mark.parametrize(
    "header",
    [None, "", "t=abc,v0=00", "v0=deadbeef", "t=1700000000", "t=1700000000,v1=abc"],
)
def test_missing_or_malformed_signature_is_rejected(header):
    with pytest.raises(WebhookSignatureError):
        verify_elevenlabs_signature(b"{}", header, "secret", now=1700000000)


def test_wrong_secret_or_tampered_body_is_rejected(emulator):
    conversation_id = place(emulator)
    body, headers = emulator.build_elevenlabs_webhook("post_call_transcription", conversation_id)
    signature = headers["ElevenLabs-Signature"]
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_elevenlabs_signature(body, signature, "another-secret")
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_elevenlabs_signature(body.replace(b"Agent", b"Agenz"), signature, emulator.webhook_secret)


def test_stale_signature_is_rejected(emulator):
    conversation_id = place(emulator)
    old = int(time.time()) - 31 * 60
    body, headers = emulator.build_elevenlabs_webhook("post_call_transcription", conversation_id, timestamp=old)
    with pytest.raises(WebhookSignatureError, match="tolerance"):
        verify_elevenlabs_signature(body, headers["ElevenLabs-Signature"], emulator.webhook_secret)
    # within a custom tolerance, or judged at the time it was sent, it is fine
    verify_elevenlabs_signature(body, headers["ElevenLabs-Signature"], emulator.webhook_secret, now=old + 5)


def test_no_secret_configured_rejects_everything():
    with pytest.raises(WebhookSignatureError):
        verify_elevenlabs_signature(b"{}", "t=1,v0=00", "")


def test_emulator_posts_signed_webhooks(emulator):
    conversation_id = place(emulator)
    with WebhookReceiver() as receiver:
        url = receiver.url + "/hooks/elevenlabs"
        response = emulator.send_elevenlabs_webhook(url, "post_call_audio", conversation_id)
        received = receiver.last_request("POST", "/hooks/elevenlabs")
    assert response.status_code == 200
    assert received.json["type"] == "post_call_audio"
    verify_elevenlabs_signature(received.raw, received.headers["Elevenlabs-Signature"], emulator.webhook_secret)


# -- ElevenLabs events -------------------------------------------------------------------
def test_post_call_transcription_gives_the_final_snapshot(emulator):
    conversation_id = place(emulator)
    emulator.finish(conversation_id)
    body, _ = emulator.build_elevenlabs_webhook("post_call_transcription", conversation_id)

    event = parse_elevenlabs_event(json.loads(body))

    assert event.kind == "post_call_transcription"
    assert event.conversation_id == conversation_id
    assert event.call_sid == emulator.calls[conversation_id].call_sid
    assert event.occurred_at is not None
    snapshot = event.snapshot
    assert snapshot.status == "completed" and snapshot.end_reason == "ended_by_agent"
    assert [t.role for t in snapshot.turns] == [
        "agent",
        "user",
        "agent",
        "user",
        "agent",
    ]
    assert snapshot.turns[0].text == "Hello!"
    assert snapshot.analysis["call_successful"] is True
    assert snapshot.analysis["data_collection"] == {"callee_outcome": "confirmed"}
    assert snapshot.analysis["evaluation"]["goal_achieved"]["result"] == "success"
    assert snapshot.duration_seconds > 0


def test_post_call_transcription_of_voicemail_is_a_failed_call():
    payload = {
        "type": "post_call_transcription",
        "event_timestamp": 1700000000,
        "data": {
            "conversation_id": "conv_1",
            "status": "done",
            "transcript": [{"role": "user", "message": "Leave a message", "time_in_call_secs": 0}],
            "metadata": {
                "call_duration_secs": 7,
                "termination_reason": "Voicemail detected",
                "phone_call": {
                    "type": "twilio",
                    "call_sid": "CA1",
                    "call_result": "voicemail",
                },
            },
            "analysis": {
                "call_successful": "unknown",
                "transcript_summary": "Voicemail.",
            },
        },
    }
    event = parse_elevenlabs_event(payload)
    assert (event.snapshot.status, event.snapshot.failure_reason) == (
        "failed",
        "voicemail",
    )
    assert event.snapshot.analysis["call_successful"] is None


def test_post_call_audio_decodes_the_mp3(emulator):
    conversation_id = place(emulator)
    emulator.finish(conversation_id)
    body, _ = emulator.build_elevenlabs_webhook("post_call_audio", conversation_id)

    event = parse_elevenlabs_event(json.loads(body))

    assert event.kind == "post_call_audio" and event.conversation_id == conversation_id
    assert event.snapshot is None
    assert event.audio.startswith(b"ID3")


@pytest.mark.parametrize(
    ("number", "forced", "reason"),
    [
        (BUSY_NUMBER, None, "busy"),
        (NO_ANSWER_NUMBER, None, "no_answer"),
        ("+14155550123", "unknown", "provider_error"),
    ],
)
def test_call_initiation_failure(emulator, number, forced, reason):
    conversation_id = place(emulator, number)
    body, _ = emulator.build_elevenlabs_webhook("call_initiation_failure", conversation_id, failure_reason=forced)

    event = parse_elevenlabs_event(json.loads(body))

    assert event.kind == "call_initiation_failure"
    assert event.call_sid == emulator.calls[conversation_id].call_sid
    assert event.snapshot.status == "failed"
    assert event.snapshot.failure_reason == reason
    assert event.snapshot.error_message


def test_unknown_event_type_is_returned_without_snapshot():
    event = parse_elevenlabs_event({"type": "voice_removal_notice", "event_timestamp": 1, "data": {}})
    assert event == ProviderEvent(kind="voice_removal_notice", occurred_at=1)


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"type": "post_call_transcription"},
        {"type": "post_call_transcription", "data": {}},
        {
            "type": "post_call_audio",
            "data": {"conversation_id": "c", "full_audio": "not base64!"},
        },
    ],
)
def test_unreadable_payloads_raise(payload):
    with pytest.raises(WebhookPayloadError):
        parse_elevenlabs_event(payload)


# -- Twilio ------------------------------------------------------------------------------
def test_twilio_signature_valid_and_invalid(emulator):
    conversation_id = place(emulator)
    call_sid = emulator.calls[conversation_id].call_sid
    form, headers = emulator.build_twilio_status_callback(STATUS_URL, call_sid, "completed", duration=42)
    signature = headers["X-Twilio-Signature"]
    token = emulator.twilio_auth_token

    assert verify_twilio_signature(STATUS_URL, form, signature, token)
    assert not verify_twilio_signature(STATUS_URL, form, signature, "other-token")
    assert not verify_twilio_signature(STATUS_URL, {**form, "CallStatus": "busy"}, signature, token)
    assert not verify_twilio_signature("https://evil.example.com/x", form, signature, token)
    assert not verify_twilio_signature(STATUS_URL, form, None, token)
    assert not verify_twilio_signature(STATUS_URL, form, "", token)


def test_twilio_signature_with_flask_multidict(emulator):
    from werkzeug.datastructures import MultiDict

    conversation_id = place(emulator)
    form, headers = emulator.build_twilio_status_callback(
        STATUS_URL, emulator.calls[conversation_id].call_sid, "ringing"
    )
    assert verify_twilio_signature(
        STATUS_URL,
        MultiDict(form),
        headers["X-Twilio-Signature"],
        emulator.twilio_auth_token,
    )


def test_emulator_posts_twilio_callbacks(emulator):
    conversation_id = place(emulator)
    call_sid = emulator.calls[conversation_id].call_sid
    with WebhookReceiver() as receiver:
        url = receiver.url + "/hooks/twilio"
        response = emulator.send_twilio_status_callback(url, call_sid, "in-progress")
        received = receiver.last_request("POST", "/hooks/twilio")
    assert response.status_code == 200
    assert verify_twilio_signature(
        url,
        received.form,
        received.headers["X-Twilio-Signature"],
        emulator.twilio_auth_token,
    )
    assert parse_twilio_status(received.form).snapshot.status == "in_progress"


@pytest.mark.parametrize(
    ("twilio_status", "status", "reason"),
    [
        ("queued", "initiated", None),
        ("ringing", "initiated", None),
        ("in-progress", "in_progress", None),
        ("completed", "completed", None),
        ("busy", "failed", "busy"),
        ("no-answer", "failed", "no_answer"),
        ("failed", "failed", "provider_error"),
        ("canceled", "failed", "cancelled"),
    ],
)
def test_parse_twilio_status_mapping(twilio_status, status, reason):
    form = {"CallSid": "CA123", "CallStatus": twilio_status, "AccountSid": "AC1"}
    if twilio_status == "completed":
        form["CallDuration"] = "37"
    event = parse_twilio_status(form)
    assert event.kind == "twilio_status" and event.call_sid == "CA123"
    assert (event.snapshot.status, event.snapshot.failure_reason) == (status, reason)
    assert event.snapshot.duration_seconds == (37.0 if twilio_status == "completed" else None)


def test_parse_twilio_status_rejects_unknown_forms():
    with pytest.raises(WebhookPayloadError):
        parse_twilio_status({"CallSid": "CA1", "CallStatus": "exploded"})
    with pytest.raises(WebhookPayloadError):
        parse_twilio_status({"CallStatus": "completed"})
