"""ElevenLabsProvider against the local ElevenLabs + Twilio emulator (real HTTP)."""

from __future__ import annotations

import dataclasses
import socket

import pytest

from tests.emulators import (
    BUSY_NUMBER,
    NO_ANSWER_NUMBER,
    VOICEMAIL_NUMBER,
    ProviderEmulator,
)
from webapp.telephony.base import AgentSpec, CallRef, CallRequest, ProviderError
from webapp.telephony.elevenlabs import ElevenLabsProvider, HangUpUnsupported

# elevenlabs 2.78 reads pydantic v1 attributes while parsing responses
pytestmark = pytest.mark.filterwarnings("ignore:The `__fields__` attribute is deprecated")

CALLEE = "+14155550123"
AGENTS = "/v1/convai/agents"
OUTBOUND = "/v1/convai/twilio/outbound-call"


@pytest.fixture
def emulator():
    server = ProviderEmulator().start()
    yield server
    server.stop()


def make_provider(emulator, *, twilio=True, timeout=5.0, **overrides):
    kwargs = {
        "api_key": emulator.api_key,
        "api_base_url": emulator.url,
        "agent_phone_number_id": emulator.phone_number_id,
        "timeout": timeout,
    }
    if twilio:
        kwargs.update(
            twilio_account_sid=emulator.twilio_account_sid,
            twilio_auth_token=emulator.twilio_auth_token,
            twilio_api_base_url=emulator.url,
        )
    kwargs.update(overrides)
    return ElevenLabsProvider(**kwargs)


@pytest.fixture
def provider(emulator):
    return make_provider(emulator)


def make_agent(**changes) -> AgentSpec:
    agent = AgentSpec(
        id="agt_1",
        name="Order confirmations",
        system_prompt="You confirm orders for {{customer_name}}.",
        starting_message="Hello, this is Acme calling.",
        voice_settings={
            "voice_id": "voice_abc",
            "stability": 0.4,
            "similarity_boost": 0.8,
            "speed": 1.1,
            "style": 0.2,
        },
        dtmf_rules={},
    )
    return dataclasses.replace(agent, **changes)


def make_request(agent, to_number=CALLEE, **changes) -> CallRequest:
    request = CallRequest(
        call_id="call_1",
        to_number=to_number,
        agent=agent,
        starting_message="Hi {{customer_name}}, this is Acme about order {{order_id}}.",
        context_data={
            "customer_name": "Ann",
            "order": {"id": 42, "total": 19.5, "paid": True},
            "tags": ["a", "b"],
        },
    )
    return dataclasses.replace(request, **changes)


def ref_of(placed) -> CallRef:
    return CallRef(
        call_id="call_1",
        provider_call_id=placed.provider_call_id,
        provider_data=placed.provider_data,
    )


def place(provider, to_number=CALLEE):
    agent = make_agent(remote_agent_id=provider.sync_agent(make_agent()))
    return ref_of(provider.place_call(make_request(agent, to_number)))


def poll_until_terminal(provider, ref, limit=20):
    seen = []
    for _ in range(limit):
        snapshot = provider.poll(ref)
        seen.append(snapshot)
        if snapshot.is_terminal:
            return snapshot, seen
    raise AssertionError(f"still {seen[-1].status} after {limit} polls")


# -- agents ------------------------------------------------------------------------------
def test_sync_agent_creates_with_tools_tts_and_overrides(provider, emulator):
    agent_id = provider.sync_agent(make_agent())

    assert agent_id.startswith("agent_")
    body = emulator.last_request("POST", f"{AGENTS}/create").json
    config = body["conversation_config"]
    assert config["agent"]["first_message"] == "Hello, this is Acme calling."
    assert config["agent"]["language"] == "en"
    assert config["agent"]["prompt"]["prompt"] == "You confirm orders for {{customer_name}}."
    tools = config["agent"]["prompt"]["built_in_tools"]
    assert tools["end_call"] == {
        "type": "system",
        "name": "end_call",
        "params": {"system_tool_type": "end_call"},
    }
    assert tools["voicemail_detection"]["params"] == {"system_tool_type": "voicemail_detection"}
    assert tools.get("play_keypad_touch_tone") is None and tools.get("transfer_to_number") is None
    tts = config["tts"]
    assert {k: tts[k] for k in ("voice_id", "stability", "similarity_boost", "speed")} == {
        "voice_id": "voice_abc",
        "stability": 0.4,
        "similarity_boost": 0.8,
        "speed": 1.1,
    }
    assert "style" not in tts  # not an agent TTS setting
    assert tts["model_id"] == "eleven_flash_v2"
    overrides = body["platform_settings"]["overrides"]["conversation_config_override"]
    assert overrides["agent"]["first_message"] is True
    assert overrides["agent"]["prompt"]["prompt"] is True
    assert overrides["tts"]["voice_id"] is True
    assert body["name"] == "Order confirmations"
    assert emulator.agents[agent_id]["conversation_config"]["tts"]["voice_id"] == "voice_abc"


def test_sync_agent_updates_existing_agent_with_dtmf_tools(provider, emulator):
    agent_id = provider.sync_agent(make_agent())
    dtmf = {
        "navigation": [{"when": "press 1 for billing", "press": "1"}],
        "inputs": {
            "0": {"action": "transfer", "to_number": "+14155550199"},
            "9": {"action": "opt_out"},
        },
    }

    same_id = provider.sync_agent(make_agent(remote_agent_id=agent_id, dtmf_rules=dtmf, system_prompt="New prompt"))

    assert same_id == agent_id
    assert len(emulator.requests_to("POST", f"{AGENTS}/create")) == 1
    body = emulator.last_request("PATCH", f"{AGENTS}/{agent_id}").json
    prompt = body["conversation_config"]["agent"]["prompt"]
    assert prompt["prompt"].startswith("New prompt")
    assert '"press 1 for billing", press 1' in prompt["prompt"]
    assert prompt["built_in_tools"]["play_keypad_touch_tone"]["params"]["system_tool_type"] == "play_keypad_touch_tone"
    transfer = prompt["built_in_tools"]["transfer_to_number"]["params"]
    assert transfer["system_tool_type"] == "transfer_to_number"
    assert transfer["transfers"][0]["transfer_destination"] == {
        "type": "phone",
        "phone_number": "+14155550199",
    }
    assert transfer["transfers"][0]["condition"]
    stored = emulator.agents[agent_id]["conversation_config"]["agent"]["prompt"]
    assert stored["prompt"].startswith("New prompt")

    provider.sync_agent(make_agent(remote_agent_id=agent_id))  # rules removed again
    tools = emulator.last_request("PATCH", f"{AGENTS}/{agent_id}").json["conversation_config"]["agent"]["prompt"]
    assert "play_keypad_touch_tone" in tools["built_in_tools"]  # sent as null, so the update removes it
    assert tools["built_in_tools"]["play_keypad_touch_tone"] is None


def test_sync_agent_recreates_an_agent_deleted_remotely(provider, emulator):
    agent_id = provider.sync_agent(make_agent())
    del emulator.agents[agent_id]

    new_id = provider.sync_agent(make_agent(remote_agent_id=agent_id))

    assert new_id != agent_id and new_id in emulator.agents


def test_sync_agent_refused_settings_raise_readable_error(provider, emulator):
    with pytest.raises(ProviderError) as err:
        provider.sync_agent(make_agent(voice_settings={"speed": 2.0}))
    assert "HTTP 422" in err.value.message and "speed" in err.value.message
    assert not err.value.unreachable


# -- placing calls -----------------------------------------------------------------------
def test_place_call_sends_agent_number_variables_and_first_message(provider, emulator):
    agent = make_agent(remote_agent_id=provider.sync_agent(make_agent()))

    placed = provider.place_call(make_request(agent))

    body = emulator.last_request("POST", OUTBOUND).json
    assert body["agent_id"] == agent.remote_agent_id
    assert body["agent_phone_number_id"] == emulator.phone_number_id
    assert body["to_number"] == CALLEE
    client_data = body["conversation_initiation_client_data"]
    assert client_data["dynamic_variables"] == {
        "customer_name": "Ann",
        "order_id": 42,
        "order_total": 19.5,
        "order_paid": True,
        "tags": "a, b",
    }
    assert client_data["conversation_config_override"] == {
        "agent": {"first_message": "Hi {{customer_name}}, this is Acme about order {{order_id}}."}
    }
    assert placed.provider_call_id.startswith("conv_")
    assert placed.provider_data["conversation_id"] == placed.provider_call_id
    assert placed.provider_data["call_sid"].startswith("CA")
    assert placed.provider_data["agent_id"] == agent.remote_agent_id


def test_place_call_without_starting_message_sends_no_override(provider, emulator):
    agent = make_agent(remote_agent_id=provider.sync_agent(make_agent()))
    provider.place_call(make_request(agent, starting_message=None))
    assert (
        "conversation_config_override"
        not in emulator.last_request("POST", OUTBOUND).json["conversation_initiation_client_data"]
    )


def test_place_call_syncs_an_agent_that_has_no_remote_id(provider, emulator):
    placed = provider.place_call(make_request(make_agent()))
    created = emulator.requests_to("POST", f"{AGENTS}/create")
    assert len(created) == 1
    assert placed.provider_data["agent_id"] in emulator.agents


def test_place_call_success_false_is_a_provider_error(provider):
    agent = make_agent(remote_agent_id=provider.sync_agent(make_agent()))
    with pytest.raises(ProviderError) as err:
        provider.place_call(make_request(agent, to_number="12345"))
    assert "not a valid phone number" in err.value.message
    assert not err.value.unreachable


def test_place_call_provider_500_is_a_provider_error_without_retry(provider, emulator):
    agent = make_agent(remote_agent_id=provider.sync_agent(make_agent()))
    emulator.fail_next(500, path_prefix=OUTBOUND)
    with pytest.raises(ProviderError) as err:
        provider.place_call(make_request(agent))
    assert "HTTP 500" in err.value.message and "Injected failure" in err.value.message
    assert not err.value.unreachable
    assert len(emulator.requests_to("POST", OUTBOUND)) == 1  # never placed twice


def test_provider_503_counts_as_unreachable(provider, emulator):
    agent = make_agent(remote_agent_id=provider.sync_agent(make_agent()))
    emulator.fail_next(503, path_prefix=OUTBOUND)
    with pytest.raises(ProviderError) as err:
        provider.place_call(make_request(agent))
    assert err.value.unreachable


def test_timeout_is_unreachable(emulator):
    provider = make_provider(emulator, timeout=0.3)
    agent = make_agent(remote_agent_id=provider.sync_agent(make_agent()))
    emulator.delay_next(1.5, path_prefix=OUTBOUND)
    with pytest.raises(ProviderError) as err:
        provider.place_call(make_request(agent))
    assert err.value.unreachable
    assert "did not answer in time" in err.value.message


def test_connection_refused_is_unreachable():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    provider = ElevenLabsProvider("key", f"http://127.0.0.1:{port}", "phnum_x", timeout=1.0)
    with pytest.raises(ProviderError) as err:
        provider.sync_agent(make_agent())
    assert err.value.unreachable


def test_wrong_api_key_is_a_readable_error(emulator):
    provider = make_provider(emulator, api_key="wrong")
    with pytest.raises(ProviderError) as err:
        provider.sync_agent(make_agent())
    assert "HTTP 401" in err.value.message and "Invalid API key" in err.value.message


def test_place_call_without_phone_number_id_is_refused(emulator):
    provider = make_provider(emulator, agent_phone_number_id=None)
    with pytest.raises(ProviderError, match="ELEVENLABS_AGENT_PHONE_NUMBER_ID"):
        provider.place_call(make_request(make_agent()))


# -- polling -----------------------------------------------------------------------------
def test_poll_goes_from_initiated_through_in_progress_to_completed(provider):
    ref = place(provider)

    final, seen = poll_until_terminal(provider, ref)

    statuses = [s.status for s in seen]
    assert statuses[0] == "initiated"
    assert "in_progress" in statuses
    growing = [len(s.turns) for s in seen if s.status == "in_progress"]
    assert growing == sorted(growing) and growing[0] < growing[-1]
    assert final.status == "completed"
    assert final.end_reason == "ended_by_agent"
    assert final.failure_reason is None
    assert final.duration_seconds and final.duration_seconds > 0
    assert final.cost_credits is not None
    assert final.termination_reason == "end_call tool was called."
    first = final.turns[0]
    assert (first.role, first.text) == ("agent", "Hi Ann, this is Acme about order 42.")
    assert first.start_seconds == 0 and first.end_seconds == final.turns[1].start_seconds
    assert all(t.end_seconds > t.start_seconds for t in final.turns)
    assert final.turns[-1].end_seconds <= final.duration_seconds
    assert final.analysis == {
        "summary": final.analysis["summary"],
        "title": "Details confirmed",
        "call_successful": True,
        "data_collection": {"callee_outcome": "confirmed"},
        "evaluation": {
            "goal_achieved": {
                "result": "success",
                "rationale": "The callee confirmed the details.",
            }
        },
    }
    assert final.analysis["summary"]
    assert {
        "type": "tool_call",
        "tool": "end_call",
        "params": {},
        "at_seconds": 18.0,
    } in final.events
    assert provider.fetch_final(ref) == provider.poll(ref)


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        (BUSY_NUMBER, "busy"),
        (NO_ANSWER_NUMBER, "no_answer"),
        (VOICEMAIL_NUMBER, "voicemail"),
    ],
)
def test_unanswered_calls_fail_with_their_reason(provider, number, reason):
    final, seen = poll_until_terminal(provider, place(provider, number))
    assert final.status == "failed"
    assert final.failure_reason == reason
    assert final.end_reason is None
    assert all(s.status in ("initiated", "in_progress") for s in seen[:-1])


def test_poll_500_is_a_provider_error(provider, emulator):
    ref = place(provider)
    emulator.fail_next(500, path_prefix="/v1/convai/conversations/")
    with pytest.raises(ProviderError) as err:
        provider.poll(ref)
    assert not err.value.unreachable
    assert provider.poll(ref).status == "initiated"


def test_poll_timeout_is_unreachable(emulator):
    provider = make_provider(emulator, timeout=0.3)
    ref = place(provider)
    emulator.delay_next(1.5, path_prefix="/v1/convai/conversations/")
    with pytest.raises(ProviderError) as err:
        provider.poll(ref)
    assert err.value.unreachable


# -- recordings --------------------------------------------------------------------------
def test_fetch_recording_returns_mpeg_bytes(provider):
    ref = place(provider)
    poll_until_terminal(provider, ref)
    recording = provider.fetch_recording(ref)
    assert recording.content_type == "audio/mpeg"
    assert recording.data.startswith(b"ID3") and len(recording.data) > 1000


def test_fetch_recording_is_none_without_audio(provider):
    ref = place(provider, BUSY_NUMBER)
    poll_until_terminal(provider, ref)
    assert provider.fetch_recording(ref) is None


# -- hanging up --------------------------------------------------------------------------
def twilio_updates(emulator):
    return [r for r in emulator.requests_to("POST", "/2010-04-01/Accounts/") if r.path.endswith(".json")]


def test_hang_up_live_call_completes_it_through_twilio(provider, emulator):
    ref = place(provider)
    provider.poll(ref)
    assert provider.poll(ref).status == "in_progress"

    data = provider.hang_up(ref, "ended_via_api")

    update = twilio_updates(emulator)[-1]
    sid = ref.provider_data["call_sid"]
    assert update.path == f"/2010-04-01/Accounts/{emulator.twilio_account_sid}/Calls/{sid}.json"
    assert update.form == {"Status": "completed"}
    assert update.headers["Authorization"].startswith("Basic ")
    assert data["conversation_id"] == ref.provider_data["conversation_id"]
    assert data["hangup"] == {"reason": "ended_via_api", "twilio_status": "completed"}
    final, _ = poll_until_terminal(provider, ref)
    assert final.status == "completed"
    assert final.termination_reason == "Call ended by remote party"


def test_hang_up_ringing_call_cancels_it(provider, emulator):
    ref = place(provider)
    assert provider.poll(ref).status == "initiated"

    data = provider.hang_up(ref, "cancelled")

    assert twilio_updates(emulator)[-1].form == {"Status": "canceled"}
    assert data["hangup"]["twilio_status"] == "canceled"
    final, _ = poll_until_terminal(provider, ref)
    assert final.status == "failed"


def test_hang_up_finished_call_changes_nothing(provider, emulator):
    ref = place(provider)
    poll_until_terminal(provider, ref)
    data = provider.hang_up(ref, "ended_via_api")
    assert twilio_updates(emulator) == []
    assert data["hangup"]["twilio_status"] == "completed"


def test_hang_up_looks_up_the_call_sid_when_missing(provider, emulator):
    ref = place(provider)
    provider.poll(ref)
    without_sid = CallRef(ref.call_id, ref.provider_call_id, {"conversation_id": ref.provider_call_id})
    data = provider.hang_up(without_sid, "ended_via_api")
    assert data["call_sid"] == ref.provider_data["call_sid"]


def test_hang_up_with_bad_twilio_credentials_is_a_provider_error(emulator):
    provider = make_provider(emulator, twilio_auth_token="wrong")
    ref = place(provider)
    with pytest.raises(ProviderError) as err:
        provider.hang_up(ref, "ended_via_api")
    assert "HTTP 401" in err.value.message and "20003" in err.value.message


def test_hang_up_without_twilio_credentials_is_unsupported(emulator):
    provider = make_provider(emulator, twilio=False)
    ref = place(provider)
    with pytest.raises(HangUpUnsupported) as err:
        provider.hang_up(ref, "ended_via_api")
    assert isinstance(err.value, ProviderError)
    assert err.value.message == "Ending a call needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
