"""Local emulators of the ElevenLabs Agents API and Twilio's REST API for tests.

    emulator = ProviderEmulator().start()      # 127.0.0.1, a free port
    provider = ElevenLabsProvider(api_key=emulator.api_key, api_base_url=emulator.url, ...)
    emulator.fail_next(500)                     # or delay_next(2.0) to provoke a timeout
    emulator.requests_to("POST", "/v1/convai/twilio/outbound-call")[-1].json
    emulator.send_elevenlabs_webhook(url, "post_call_transcription", conversation_id)
    emulator.stop()

One server answers both APIs, so ending a call through Twilio ends the ElevenLabs
conversation too. See conversations.py for the scenarios chosen by `to_number`.
"""

from __future__ import annotations

from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map, Rule

from .conversations import (
    BUSY_NUMBER,
    NO_ANSWER_NUMBER,
    SILENT_NUMBER,
    UNKNOWN_ENDING_NUMBER,
    VOICEMAIL_NUMBER,
    EmulatedCall,
)
from .elevenlabs import ElevenLabsMixin
from .server import EmulatorServer, RecordedRequest, json_response
from .twilio import TwilioMixin

__all__ = [
    "BUSY_NUMBER",
    "NO_ANSWER_NUMBER",
    "SILENT_NUMBER",
    "UNKNOWN_ENDING_NUMBER",
    "VOICEMAIL_NUMBER",
    "EmulatedCall",
    "ProviderEmulator",
    "RecordedRequest",
    "WebhookReceiver",
]

_ROUTES = Map(
    [
        Rule("/v1/convai/agents/create", methods=["POST"], endpoint="el_create_agent"),
        Rule("/v1/convai/agents", methods=["GET"], endpoint="el_list_agents"),
        Rule(
            "/v1/convai/agents/<agent_id>",
            methods=["GET", "PATCH"],
            endpoint="el_agent",
        ),
        Rule(
            "/v1/convai/conversation/get-signed-url",
            methods=["GET"],
            endpoint="el_signed_url",
        ),
        Rule(
            "/v1/convai/twilio/outbound-call",
            methods=["POST"],
            endpoint="el_outbound_call",
        ),
        Rule(
            "/v1/convai/conversations/<conversation_id>",
            methods=["GET"],
            endpoint="el_conversation",
        ),
        Rule(
            "/v1/convai/conversations/<conversation_id>/audio",
            methods=["GET"],
            endpoint="el_audio",
        ),
        Rule(
            "/2010-04-01/Accounts/<account_sid>/Calls/<call_sid>.json",
            methods=["GET", "POST"],
            endpoint="tw_call",
        ),
    ],
    strict_slashes=False,
)


class ProviderEmulator(EmulatorServer, ElevenLabsMixin, TwilioMixin):
    """ElevenLabs + Twilio on one local server.

    clock="polls": each GET of a conversation moves it `step_seconds` of call time forward
    (deterministic); clock="time": the wall clock times `time_scale` drives it.
    """

    def __init__(
        self,
        *,
        api_key="xi-test-key",
        phone_number_id="phnum_emulator",
        agent_number="+15550001000",
        webhook_secret="wsec_test_secret",
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="twilio-test-token",
        clock="polls",
        step_seconds=10.0,
        time_scale=1.0,
    ):
        super().__init__()
        self.api_key = api_key
        self.phone_number_id = phone_number_id
        self.agent_number = agent_number
        self.webhook_secret = webhook_secret
        self.twilio_account_sid = twilio_account_sid
        self.twilio_auth_token = twilio_auth_token
        self.clock = clock
        self.step_seconds = step_seconds
        self.time_scale = time_scale
        self._init_elevenlabs()
        self._init_twilio()

    def dispatch(self, request, payload):
        adapter = _ROUTES.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except HTTPException as exc:
            return json_response(
                {"detail": {"status": "not_found", "message": exc.description}},
                exc.code,
            )
        if endpoint.startswith("el_"):
            denied = self._check_key(request)
            if denied:
                return denied
        return getattr(self, endpoint)(request, payload, **args)


class WebhookReceiver(EmulatorServer):
    """Answers every request with `status` and records it (a stand-in webhook endpoint)."""

    def __init__(self, status=200):
        super().__init__()
        self.status = status

    def dispatch(self, request, payload):
        return json_response({"received": True}, self.status)
