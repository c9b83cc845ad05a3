"""The ElevenLabs + Twilio emulator itself: the checks it makes and its wall-clock mode."""

from __future__ import annotations

import time

import pytest
import requests

from tests.emulators import ProviderEmulator
from webapp.telephony.base import AgentSpec, CallRef, CallRequest
from webapp.telephony.elevenlabs import ElevenLabsProvider

pytestmark = pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated")


@pytest.fixture
def emulator():
    server = ProviderEmulator().start()
    yield server
    server.stop()


def headers(emulator):
    return {"xi-api-key": emulator.api_key}


def create_agent(emulator, platform_settings=None):
    body = {"conversation_config": {"agent": {"first_message": "Hi"}}, "platform_settings": platform_settings or {}}
    response = requests.post(f"{emulator.url}/v1/convai/agents/create", json=body, headers=headers(emulator))
    return response.json()["agent_id"]


def test_agent_can_be_read_back(emulator):
    agent_id = create_agent(emulator)
    response = requests.get(f"{emulator.url}/v1/convai/agents/{agent_id}", headers=headers(emulator))
    assert response.status_code == 200
    assert response.json()["conversation_config"]["agent"]["first_message"] == "Hi"
    missing = requests.get(f"{emulator.url}/v1/convai/agents/agent_nope", headers=headers(emulator))
    assert missing.status_code == 404 and missing.json()["detail"]["status"] == "agent_not_found"


def test_requests_without_api_key_are_refused(emulator):
    response = requests.post(f"{emulator.url}/v1/convai/agents/create", json={"conversation_config": {}})
    assert response.status_code == 401
    assert response.json()["detail"]["status"] == "invalid_api_key"


def test_override_not_enabled_on_the_agent_fails_the_call(emulator):
    agent_id = create_agent(emulator)  # no platform_settings.overrides
    body = {
        "agent_id": agent_id,
        "agent_phone_number_id": emulator.phone_number_id,
        "to_number": "+14155550123",
        "conversation_initiation_client_data": {"conversation_config_override": {"agent": {"first_message": "Yo"}}},
    }
    response = requests.post(f"{emulator.url}/v1/convai/twilio/outbound-call", json=body, headers=headers(emulator))
    assert response.json()["success"] is False
    assert "first_message" in response.json()["message"]


def test_twilio_needs_basic_auth_and_knows_its_calls(emulator):
    url = f"{emulator.url}/2010-04-01/Accounts/{emulator.twilio_account_sid}/Calls/CAnope.json"
    assert requests.get(url).json()["code"] == 20003
    response = requests.get(url, auth=(emulator.twilio_account_sid, emulator.twilio_auth_token))
    assert response.status_code == 404 and response.json()["code"] == 20404


def test_wall_clock_mode_runs_the_call_in_scaled_time():
    with ProviderEmulator(clock="time", time_scale=200.0) as emulator:
        provider = ElevenLabsProvider(emulator.api_key, emulator.url, emulator.phone_number_id)
        agent = AgentSpec("a", "A", "Be brief.", "Hello!", {}, {})
        placed = provider.place_call(CallRequest("c", "+14155550123", agent, None, {}))
        ref = CallRef("c", placed.provider_call_id, placed.provider_data)
        time.sleep(0.3)  # 60 emulated seconds: the call and its analysis are done
        assert provider.poll(ref).status == "completed"


def test_agents_are_listed_in_pages_and_the_reachability_check_reads_the_list(emulator):
    first, second = create_agent(emulator), create_agent(emulator)
    response = requests.get(f"{emulator.url}/v1/convai/agents?page_size=1", headers=headers(emulator))
    page = response.json()
    assert response.status_code == 200 and len(page["agents"]) == 1 and page["has_more"] is True
    assert {a["agent_id"] for a in page["agents"]} <= {first, second}
    provider = ElevenLabsProvider(api_key=emulator.api_key, api_base_url=emulator.url)
    provider.check_reachable(AgentSpec("a", "A", "Prompt.", None, {}, {}))  # no remote copy yet: the list
    listed = emulator.last_request("GET", "/v1/convai/agents")
    assert listed.query == {"page_size": "1"} and listed.path == "/v1/convai/agents"


def test_a_conversation_missing_a_dynamic_variable_fails_at_once(emulator):
    defaults = {"dynamic_variable_placeholders": {"plan": "Gold"}}
    agent = {"first_message": "Hi {{name}}", "prompt": {"prompt": "About {{plan}}"}, "dynamic_variables": defaults}
    body = {"conversation_config": {"agent": agent}}
    agent_id = requests.post(f"{emulator.url}/v1/convai/agents/create", json=body, headers=headers(emulator)).json()[
        "agent_id"
    ]
    call = {"agent_id": agent_id, "agent_phone_number_id": emulator.phone_number_id, "to_number": "+14155550123"}
    placed = requests.post(f"{emulator.url}/v1/convai/twilio/outbound-call", json=call, headers=headers(emulator))
    conversation_id = placed.json()["conversation_id"]
    emulator.finish(conversation_id)
    conversation = emulator.conversation(conversation_id)
    assert conversation["status"] == "failed"
    assert conversation["metadata"]["termination_reason"] == "Missing required dynamic variables in first message: name"
