"""ElevenLabs Agents over its native Twilio integration: ElevenLabs places and runs the
call; Twilio's REST API is used only to end a live call."""

from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import replace
from typing import Literal

import httpx
import requests
from elevenlabs import ElevenLabs
from elevenlabs.core.api_error import ApiError
from elevenlabs.core.parse_error import ParsingError
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client as TwilioClient

from ..base import (
    AgentSpec,
    CallRef,
    CallRequest,
    CallSnapshot,
    HangUpUnsupported,
    PlacedCall,
    ProviderError,
    Recording,
)
from .agent_config import agent_payload, initiation_client_data, telephony_call_config
from .conversation import snapshot

NO_RETRY = {"max_retries": 0}  # placing a call twice is worse than failing once; polls come again
RETRY = {"max_retries": 2}
CHECK_TIMEOUT_SECONDS = 5.0
UNAVAILABLE_STATUSES = (502, 503, 504)
TWILIO_NOT_IN_PROGRESS = 21220  # the call ended before our update reached it
RECORDING_RETRY_STATUSES = (500, 502, 503, 504)  # the recording may exist: try again later
OVERRIDE_REFUSED = re.compile(r"override .*not allowed|not allowed by config", re.IGNORECASE)


def _conversation_id(call: CallRef) -> str:
    return call.provider_data.get("conversation_id") or call.provider_call_id


def _api_error_text(body) -> str:
    if isinstance(body, dict):
        detail = body.get("detail", body)
        if isinstance(detail, dict):
            return str(detail.get("message") or detail.get("status") or detail)
        if isinstance(detail, list):
            parts = []
            for item in detail:
                if isinstance(item, dict):
                    loc = ".".join(str(p) for p in item.get("loc", []) if p != "body")
                    parts.append(f"{loc}: {item.get('msg')}" if loc else str(item.get("msg")))
                else:
                    parts.append(str(item))
            return "; ".join(parts)
        return str(detail)
    return str(body or "").strip()[:300]


@contextmanager
def elevenlabs_errors(action: str):
    """Turn SDK and network errors into ProviderError with a message a user can read."""
    try:
        yield
    except httpx.TimeoutException as exc:
        raise ProviderError(f"ElevenLabs did not answer in time while {action}", unreachable=True) from exc
    except httpx.TransportError as exc:
        raise ProviderError(f"ElevenLabs could not be reached while {action}: {exc}", unreachable=True) from exc
    except ApiError as exc:
        text = _api_error_text(exc.body)
        message = f"ElevenLabs refused {action} (HTTP {exc.status_code})" + (f": {text}" if text else "")
        raise ProviderError(message, unreachable=exc.status_code in UNAVAILABLE_STATUSES) from exc
    except ParsingError as exc:
        raise ProviderError(f"ElevenLabs sent an unexpected response while {action}") from exc


@contextmanager
def twilio_errors(action: str):
    try:
        yield
    except requests.Timeout as exc:
        raise ProviderError(f"Twilio did not answer in time while {action}", unreachable=True) from exc
    except requests.ConnectionError as exc:
        raise ProviderError(f"Twilio could not be reached while {action}", unreachable=True) from exc
    except TwilioRestException as exc:
        message = f"Twilio refused {action} (HTTP {exc.status}, error {exc.code}): {exc.msg}"
        raise ProviderError(message, unreachable=exc.status in UNAVAILABLE_STATUSES) from exc
    except TwilioException as exc:
        raise ProviderError(f"Twilio failed while {action}: {exc}") from exc


class ElevenLabsProvider:
    name = "elevenlabs"
    needs_remote_agents = True  # each agent is mirrored as an ElevenLabs agent before its calls

    def __init__(
        self,
        api_key: str,
        api_base_url: str | None = None,
        agent_phone_number_id: str | None = None,
        twilio_account_sid: str | None = None,
        twilio_auth_token: str | None = None,
        twilio_api_base_url: str | None = None,
        timeout: float = 10.0,
        twilio_region: str | None = None,
        twilio_edge: str | None = None,
    ):
        self.agent_phone_number_id = agent_phone_number_id
        self.timeout = timeout
        self._client = ElevenLabs(api_key=api_key, base_url=api_base_url or None, timeout=timeout)
        self._twilio = None
        if twilio_account_sid and twilio_auth_token:
            self._twilio = TwilioClient(
                twilio_account_sid,
                twilio_auth_token,
                http_client=TwilioHttpClient(timeout=timeout),
                region=twilio_region,  # numbers outside US1: api.<edge>.<region>.twilio.com
                edge=twilio_edge,
            )
            if twilio_api_base_url:
                self._twilio.api.base_url = twilio_api_base_url.rstrip("/")

    @property
    def client(self) -> ElevenLabs:
        return self._client

    @property
    def _convai(self):
        return self._client.conversational_ai

    # -- agents --------------------------------------------------------------------------
    def sync_agent(self, agent: AgentSpec, payload: dict | None = None) -> str:
        """`payload`: the agents.create/update arguments, when not the ones agent_payload builds."""
        payload = payload or agent_payload(agent)
        if agent.remote_agent_id:
            try:
                with elevenlabs_errors("updating the agent"):
                    self._convai.agents.update(agent.remote_agent_id, **payload, request_options=RETRY)
                return agent.remote_agent_id
            except ProviderError as exc:
                if getattr(exc.__cause__, "status_code", None) != 404:
                    raise
                # deleted on the ElevenLabs side: create it again below
        with elevenlabs_errors("creating the agent"):
            created = self._convai.agents.create(**payload, request_options=NO_RETRY)
        return created.agent_id

    def check_reachable(self, agent: AgentSpec) -> None:
        """Raise ProviderError(unreachable=True) when ElevenLabs can't be reached right now.
        One cheap read; any answer other than 502/503/504 (even a 404) proves it is reachable."""
        options = {"max_retries": 0, "timeout_in_seconds": min(self.timeout, CHECK_TIMEOUT_SECONDS)}
        try:
            with elevenlabs_errors("checking the connection"):
                if agent.remote_agent_id:
                    self._convai.agents.get(agent.remote_agent_id, request_options=options)
                else:
                    self._convai.agents.list(page_size=1, request_options=options)
        except ProviderError as exc:
            if exc.unreachable:
                raise

    # -- calls ---------------------------------------------------------------------------
    def place_call(self, request: CallRequest) -> PlacedCall:
        if not self.agent_phone_number_id:
            raise ProviderError("Placing calls needs ELEVENLABS_AGENT_PHONE_NUMBER_ID")
        agent_id = request.agent.remote_agent_id or self.sync_agent(request.agent)
        response = self._outbound_call(agent_id, request)
        if not response.success and OVERRIDE_REFUSED.search(response.message or ""):
            # The agent's override whitelist was lost (edited in the ElevenLabs dashboard?):
            # push our whole agent config again, whitelist included, and try once more.
            agent_id = self.sync_agent(replace(request.agent, remote_agent_id=agent_id))
            response = self._outbound_call(agent_id, request)
        if not response.success or not response.conversation_id:
            raise ProviderError(f"ElevenLabs could not place the call: {response.message or 'no reason given'}")
        return PlacedCall(
            provider_call_id=response.conversation_id,
            provider_data={
                "conversation_id": response.conversation_id,
                "call_sid": response.call_sid,
                "agent_id": agent_id,
            },
        )

    def _outbound_call(self, agent_id: str, request: CallRequest):
        with elevenlabs_errors("placing the call"):
            return self._convai.twilio.outbound_call(
                agent_id=agent_id,
                agent_phone_number_id=self.agent_phone_number_id,
                to_number=request.to_number,
                conversation_initiation_client_data=initiation_client_data(request),
                telephony_call_config=telephony_call_config(request.agent),
                request_options=NO_RETRY,
            )

    def _conversation(self, call: CallRef, request_options: dict) -> dict:
        with elevenlabs_errors("reading the call"):
            model = self._convai.conversations.get(_conversation_id(call), request_options=request_options)
        return model.dict()

    def poll(self, call: CallRef) -> CallSnapshot:
        return snapshot(self._conversation(call, NO_RETRY), answered_by=call.provider_data.get("answered_by"))

    def fetch_final(self, call: CallRef) -> CallSnapshot:
        return snapshot(self._conversation(call, RETRY), answered_by=call.provider_data.get("answered_by"))

    def fetch_recording(self, call: CallRef) -> Recording | None:
        audio = self._convai.conversations.audio.with_raw_response
        try:
            with (
                elevenlabs_errors("downloading the recording"),
                audio.get(_conversation_id(call), request_options=RETRY) as response,
            ):
                content_type = response.headers.get("content-type") or "audio/mpeg"
                data = b"".join(response.data)
        except ProviderError as exc:
            status = getattr(exc.__cause__, "status_code", None)
            if status == 404:
                return None  # no recording (the only answer that says so)
            if status in RECORDING_RETRY_STATUSES:
                exc.unreachable = True  # worth another try later
            raise
        return Recording(content_type.split(";")[0], data) if data else None

    def hang_up(self, call: CallRef, reason: Literal["ended_via_api", "cancelled"]) -> dict:
        if self._twilio is None:
            raise HangUpUnsupported("Ending a call needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN")
        call_sid = call.provider_data.get("call_sid") or self._call_sid(call)
        if not call_sid:
            raise ProviderError("The call has no Twilio call yet; try again in a moment")
        with twilio_errors("ending the call"):
            status = self._twilio.calls(call_sid).fetch().status
            if status in ("queued", "ringing"):
                status = self._update(call_sid, "canceled")
            if status == "in-progress":  # answered, possibly while we were canceling
                status = self._update(call_sid, "completed")
        return {
            **call.provider_data,
            "call_sid": call_sid,
            "hangup": {"reason": reason, "twilio_status": status},
        }

    def _update(self, call_sid: str, status: str) -> str:
        try:
            return self._twilio.calls(call_sid).update(status=status).status
        except TwilioRestException as exc:
            if exc.code == TWILIO_NOT_IN_PROGRESS:
                return "completed"
            raise

    def _call_sid(self, call: CallRef) -> str | None:
        conversation = self._conversation(call, NO_RETRY)
        return ((conversation.get("metadata") or {}).get("phone_call") or {}).get("call_sid")
