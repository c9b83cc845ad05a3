"""TELEPHONY_PROVIDER=twilio: Twilio places the call (our TwiML connects its media stream to
our /media/twilio socket) and the media bridge relays it to an ElevenLabs agent conversation.

The agent itself lives at ElevenLabs (created and updated as for the `elevenlabs` provider);
the call's state comes from Twilio's callbacks and the bridge, so `poll` only asks Twilio now
and then, as a safety net for lost callbacks."""

from __future__ import annotations

import threading
import time
from typing import Literal

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient
from twilio.twiml.voice_response import VoiceResponse

from ..base import AgentSpec, CallRef, CallRequest, CallSnapshot, PlacedCall, ProviderError, Recording
from ..elevenlabs.conversation import snapshot as conversation_snapshot
from ..elevenlabs.provider import RETRY, ElevenLabsProvider, elevenlabs_errors, twilio_errors
from ..elevenlabs.webhooks import TWILIO_STATUS
from .agent_config import bridged_agent_payload

# Called with (call_id, reason) before we hang a call up on request (API / dashboard), so the
# bridge, seeing Twilio stop the stream, records who ended the call; the media layer registers one.
HANG_UP_NOTICES: list = []
STATUS_EVENTS = ["initiated", "ringing", "answered", "completed"]
POLL_EVERY_SECONDS = 15.0  # callbacks carry the state; polling Twilio is only the safety net
RING_TIMEOUT_SECONDS = 30
TWILIO_NOT_IN_PROGRESS = 21220


def status_snapshot(twilio_status: str) -> CallSnapshot | None:
    """What a Twilio call status says about our call (a completed call was hung up by the
    callee unless the bridge said otherwise first)."""
    if twilio_status not in TWILIO_STATUS:
        return None
    status, failure = TWILIO_STATUS[twilio_status]
    message = {"provider_error": "Twilio could not connect the call."}.get(failure)
    return CallSnapshot(
        status=status,
        failure_reason=failure,
        end_reason="ended_by_callee" if status == "completed" else None,
        termination_reason=twilio_status if status in ("completed", "failed") else None,
        error_message=message,
    )


class TwilioProvider:
    name = "twilio"
    needs_remote_agents = True  # the bridged conversation runs an ElevenLabs agent

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        public_base_url: str,
        elevenlabs_api_key: str,
        elevenlabs_api_base_url: str | None = None,
        twilio_api_base_url: str | None = None,
        timeout: float = 10.0,
    ):
        self.from_number = from_number
        self.public_base_url = public_base_url.rstrip("/")
        self.account_sid = account_sid
        self.auth = (account_sid, auth_token)
        self.timeout = timeout
        self.api_base_url = (twilio_api_base_url or "https://api.twilio.com").rstrip("/")
        self.elevenlabs = ElevenLabsProvider(
            api_key=elevenlabs_api_key, api_base_url=elevenlabs_api_base_url, timeout=timeout
        )
        self.twilio = TwilioClient(account_sid, auth_token, http_client=TwilioHttpClient(timeout=timeout))
        if twilio_api_base_url:
            self.twilio.api.base_url = self.api_base_url
        self._polled: dict[str, tuple[float, CallSnapshot]] = {}
        self._polled_lock = threading.Lock()

    # -- agents (at ElevenLabs) -----------------------------------------------------------
    def sync_agent(self, agent: AgentSpec) -> str:
        return self.elevenlabs.sync_agent(agent, payload=bridged_agent_payload(agent))

    def check_reachable(self, agent: AgentSpec) -> None:
        self.elevenlabs.check_reachable(agent)

    def signed_url(self, agent_id: str) -> str:
        with elevenlabs_errors("opening the agent conversation"):
            return self.elevenlabs.client.conversational_ai.conversations.get_signed_url(
                agent_id=agent_id, request_options=RETRY
            ).signed_url

    # -- calls ---------------------------------------------------------------------------
    def callback_url(self, call_id: str, kind: str) -> str:
        return f"{self.public_base_url}/webhooks/twilio/calls/{call_id}/{kind}"

    def place_call(self, request: CallRequest) -> PlacedCall:
        agent_id = request.agent.remote_agent_id or self.sync_agent(request.agent)
        with twilio_errors("placing the call"):
            call = self.twilio.calls.create(
                to=request.to_number,
                from_=self.from_number,
                url=self.callback_url(request.call_id, "twiml"),
                method="POST",
                status_callback=self.callback_url(request.call_id, "status"),
                status_callback_event=STATUS_EVENTS,
                status_callback_method="POST",
                machine_detection="DetectMessageEnd",
                async_amd="true",
                async_amd_status_callback=self.callback_url(request.call_id, "amd"),
                async_amd_status_callback_method="POST",
                record=True,
                recording_channels="dual",
                timeout=RING_TIMEOUT_SECONDS,
            )
        return PlacedCall(provider_call_id=call.sid, provider_data={"call_sid": call.sid, "agent_id": agent_id})

    def poll(self, call: CallRef) -> CallSnapshot:
        """Twilio's view, asked at most every POLL_EVERY_SECONDS per call (else "no news")."""
        call_sid = call.provider_data.get("call_sid") or call.provider_call_id
        now = time.monotonic()
        with self._polled_lock:
            cached = self._polled.get(call_sid)
            if cached and now - cached[0] < POLL_EVERY_SECONDS:
                return CallSnapshot(status="initiated")
        with twilio_errors("reading the call"):
            status = self.twilio.calls(call_sid).fetch().status
        snapshot = status_snapshot(status) or CallSnapshot(status="initiated")
        with self._polled_lock:
            self._polled[call_sid] = (now, snapshot)
            if snapshot.is_terminal:
                self._polled.pop(call_sid, None)
        return snapshot

    def hang_up(self, call: CallRef, reason: Literal["ended_via_api", "cancelled"]) -> dict:
        call_sid = call.provider_data.get("call_sid") or call.provider_call_id
        for notice in HANG_UP_NOTICES:
            notice(call.call_id, reason)
        status = self.end_call(call_sid)
        return {**call.provider_data, "hangup": {"reason": reason, "twilio_status": status}}

    def end_call(self, call_sid: str) -> str:
        """Hang up (or cancel a call still ringing); returns Twilio's status afterwards."""
        with twilio_errors("ending the call"):
            status = self.twilio.calls(call_sid).fetch().status
            if status in ("queued", "ringing"):
                status = self._update(call_sid, status="canceled")
            if status == "in-progress":
                status = self._update(call_sid, status="completed")
        return status

    def transfer(self, call_sid: str, to_number: str) -> str:
        """Cold transfer: the call leaves the stream for a <Dial> to the number."""
        response = VoiceResponse()
        response.dial(to_number)
        with twilio_errors("transferring the call"):
            return self._update(call_sid, twiml=str(response))

    def _update(self, call_sid: str, **fields) -> str:
        try:
            return self.twilio.calls(call_sid).update(**fields).status
        except TwilioRestException as exc:
            if exc.code == TWILIO_NOT_IN_PROGRESS:
                return "completed"
            raise

    def fetch_final(self, call: CallRef) -> CallSnapshot:
        """The report's inputs from the ElevenLabs conversation (analysis, cost, duration). The
        transcript and events stay the bridge's, which timed them on the stream."""
        conversation_id = call.provider_data.get("conversation_id")
        if not conversation_id:
            raise ProviderError("The call never reached the agent; there is no conversation to read")
        with elevenlabs_errors("reading the conversation"):
            model = self.elevenlabs.client.conversational_ai.conversations.get(conversation_id, request_options=RETRY)
        final = conversation_snapshot(model.dict(), final=True)
        return CallSnapshot(
            status=final.status,
            analysis=final.analysis,
            cost_credits=final.cost_credits,
            cost_usd=final.cost_usd,
            termination_reason=final.termination_reason,
        )

    def fetch_recording(self, call: CallRef) -> Recording | None:
        """Twilio's dual-channel recording of the call (callee left, agent right), as WAV."""
        call_sid = call.provider_data.get("call_sid") or call.provider_call_id
        with twilio_errors("listing the recordings"):
            recordings = self.twilio.calls(call_sid).recordings.list(limit=5)
        done = [r for r in recordings if (r.status or "completed") == "completed"]
        if not done:
            return None
        uri = done[0].uri.removesuffix(".json") + ".wav"
        try:
            response = requests.get(f"{self.api_base_url}{uri}", auth=self.auth, timeout=self.timeout * 3)
        except requests.RequestException as exc:
            raise ProviderError(f"Twilio could not be reached while downloading the recording: {exc}") from exc
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise ProviderError(f"Twilio refused the recording download (HTTP {response.status_code})")
        return Recording("audio/wav", response.content)
