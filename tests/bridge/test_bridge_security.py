"""Twilio callbacks with bad signatures are refused, and a media stream without a valid
token is closed before anything reaches the agent."""

import json

import pytest
from simple_websocket import Client, ConnectionClosed
from twilio.request_validator import RequestValidator

from tests.bridge.helpers import bridged_call, finished
from tests.support import scaled

FORM = {"CallSid": "CA" + "f" * 32, "CallStatus": "completed", "AnsweredBy": "machine_end_beep"}


@pytest.mark.parametrize("kind", ["twiml", "status", "amd"])
def test_callbacks_with_bad_or_missing_signatures_are_refused(site, emulators, kind):
    import requests

    url = f"{site.url}/webhooks/twilio/calls/00000000-0000-0000-0000-000000000000/{kind}"
    wrong = RequestValidator("not-the-token").compute_signature(url, FORM)
    assert requests.post(url, data=FORM, headers={"X-Twilio-Signature": wrong}, timeout=scaled(10)).status_code == 403
    assert requests.post(url, data=FORM, timeout=scaled(10)).status_code == 403
    right = RequestValidator(emulators.twilio.auth_token).compute_signature(url, FORM)
    answer = requests.post(url, data=FORM, headers={"X-Twilio-Signature": right}, timeout=scaled(10))
    assert answer.status_code == 200  # signed but for no call of ours: nothing happens


def test_signature_is_checked_against_the_public_url(site, emulators):
    import requests

    url = f"{site.url}/webhooks/twilio/calls/x/status"
    elsewhere = RequestValidator(emulators.twilio.auth_token).compute_signature("https://other.example/x", FORM)
    signed_elsewhere = requests.post(url, data=FORM, headers={"X-Twilio-Signature": elsewhere}, timeout=scaled(10))
    assert signed_elsewhere.status_code == 403


def _start(ws, parameters):
    ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
    media_format = {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}
    start = {"streamSid": "MZ1", "accountSid": "AC1", "callSid": "CA1", "tracks": ["inbound"],
             "customParameters": parameters, "mediaFormat": media_format}  # fmt: skip
    ws.send(json.dumps({"event": "start", "sequenceNumber": "1", "streamSid": "MZ1", "start": start}))


@pytest.mark.parametrize("parameters", [{}, {"call_id": "x", "token": "forged"}])
def test_stream_without_a_valid_token_is_closed(site, parameters):
    ws = Client.connect(site.media.stream_url)
    _start(ws, parameters)
    with pytest.raises(ConnectionClosed):
        while True:
            if ws.receive(timeout=scaled(10)) is None:
                raise AssertionError("the stream was not closed")
    assert ws.close_reason == 1008


def test_a_token_is_bound_to_its_call(account, emulators, site):
    """A real call's token replayed with another CallSid is refused."""
    from webapp.media import tokens

    call_id, _, _ = bridged_call(account, emulators)
    with site.app.test_request_context():
        token = tokens.issue(call_id, "CA_original")
        assert tokens.check(token, call_id, "CA_original")
        assert not tokens.check(token, call_id, "CA_other")
        assert not tokens.check(token, "another-call", "CA_original")
    finished(account, call_id)
