"""Outcomes and conversation content of the simulated provider's scenarios."""

import itertools
import json

import pytest

from webapp.telephony.base import AgentSpec, CallRef, CallRequest, ProviderError
from webapp.telephony.simulated import SimulatedProvider
from webapp.telephony.simulated.script import WORDS_PER_SECOND, build_timeline

LATER = 10_000.0  # far past the end of any simulated call


class Clock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_request(to_number="+14155550123", call_id="call-1", **overrides) -> CallRequest:
    agent = AgentSpec(
        id="agent-1",
        name=overrides.pop("agent_name", "Ava"),
        system_prompt=overrides.pop("system_prompt", "You follow up on customer orders."),
        starting_message=overrides.pop("agent_starting_message", None),
        voice_settings={},
        dtmf_rules=overrides.pop("dtmf_rules", {}),
    )
    fields = {"starting_message": None, "context_data": {}, "task_name": ""} | overrides
    return CallRequest(call_id=call_id, to_number=to_number, agent=agent, **fields)


def final(request: CallRequest):
    clock = Clock()
    provider = SimulatedProvider(clock=clock)
    placed = provider.place_call(request)
    clock.now += LATER
    return provider.poll(CallRef(request.call_id, placed.provider_call_id, placed.provider_data))


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("+15005550001", "no_answer"),
        ("+15005550002", "busy"),
        ("+15005550003", "voicemail"),
    ],
)
def test_failing_numbers_fail_with_their_reason(number, reason):
    snapshot = final(make_request(number))
    assert snapshot.status == "failed"
    assert snapshot.failure_reason == reason
    assert snapshot.end_reason is None
    assert snapshot.is_terminal


@pytest.mark.parametrize("number", ["+15005550001", "+15005550002"])
def test_unanswered_calls_have_no_transcript_and_zero_duration(number):
    snapshot = final(make_request(number))
    assert snapshot.turns == ()
    assert snapshot.duration_seconds == 0.0


def test_voicemail_plays_a_greeting_as_the_callee():
    snapshot = final(make_request("+15005550003", context_data={"customer_name": "Jane Roe"}))
    assert [turn.role for turn in snapshot.turns] == ["user"]
    assert "leave a message" in snapshot.turns[0].text
    assert "Jane Roe" in snapshot.turns[0].text
    assert snapshot.duration_seconds > snapshot.turns[0].end_seconds


def test_dropped_call_fails_mid_conversation():
    snapshot = final(make_request("+15005550004"))
    full = final(make_request("+14155550123"))
    assert snapshot.status == "failed"
    assert snapshot.failure_reason == "dropped"
    assert 2 <= len(snapshot.turns) < len(full.turns)
    assert snapshot.duration_seconds > snapshot.turns[-1].end_seconds


@pytest.mark.parametrize("call_id", [f"call-{n}" for n in range(12)])
def test_any_other_number_converses_to_completion(call_id):
    snapshot = final(make_request(call_id=call_id))
    assert snapshot.status == "completed"
    assert snapshot.failure_reason is None
    assert snapshot.end_reason in ("ended_by_agent", "ended_by_callee")
    assert 6 <= len(snapshot.turns) <= 12
    assert snapshot.turns[0].role == "agent"
    last_speaker = "agent" if snapshot.end_reason == "ended_by_agent" else "user"
    assert snapshot.turns[-1].role == last_speaker
    assert {turn.role for turn in snapshot.turns} == {"agent", "user"}
    assert snapshot.duration_seconds >= snapshot.turns[-1].end_seconds


def test_turns_are_ordered_and_timed_by_word_count():
    turns = build_timeline(make_request(context_data={"order_id": "A-1001"})).turns
    for before, after in itertools.pairwise(turns):
        assert before.end_seconds <= after.start_seconds
    for turn in turns:
        words = len(turn.text.split())
        assert turn.end_seconds - turn.start_seconds == pytest.approx(words / WORDS_PER_SECOND + 0.3, abs=0.02)


def test_opens_with_the_task_starting_message_and_uses_context():
    request = make_request(
        starting_message="Hello {{customer_name}}, this is Ava from Acme.",
        agent_starting_message="Agent greeting that must not be used.",
        context_data={
            "customer_name": "Jane Roe",
            "order_id": "A-1001",
            "plan": "Gold",
        },
    )
    turns = final(request).turns
    assert turns[0].text == "Hello Jane Roe, this is Ava from Acme."
    text = " ".join(turn.text for turn in turns)
    assert "A-1001" in text
    assert "Jane" in text
    assert "plan as Gold" in text


def test_falls_back_to_the_agent_starting_message_then_a_greeting():
    with_agent_message = make_request(agent_starting_message="Hi, it's the Acme assistant.")
    assert final(with_agent_message).turns[0].text == "Hi, it's the Acme assistant."
    greeting = final(make_request(agent_name="Max", context_data={"customer_name": "Jane Roe"}))
    assert greeting.turns[0].text.startswith("Hi Jane, this is Max")


def test_appointment_and_amount_context_are_mentioned():
    request = make_request(
        system_prompt="You remind patients about appointments.",
        context_data={
            "name": "Sam Lee",
            "appointment_date": "June 3 at 10 am",
            "amount": 42.5,
        },
    )
    text = " ".join(turn.text for turn in final(request).turns)
    assert "June 3 at 10 am" in text
    assert "$42.50" in text


def test_same_call_id_gives_the_same_call_and_different_ids_vary():
    first = build_timeline(make_request(call_id="same"))
    assert build_timeline(make_request(call_id="same")) == first
    others = {build_timeline(make_request(call_id=f"other-{n}")).turns for n in range(8)}
    assert len(others) > 1


def test_provider_data_is_modest_json():
    placed = SimulatedProvider(clock=Clock()).place_call(make_request("+15005550005"))
    assert placed.provider_call_id.startswith("sim_")
    encoded = json.dumps(placed.provider_data)
    assert len(encoded) < 8_000
    assert {"placed_at", "time_scale", "scenario", "turns", "outcome"} <= set(json.loads(encoded))


def test_sync_agent_returns_none():
    assert SimulatedProvider().sync_agent(make_request().agent) is None


def test_place_call_rejects_a_number_that_is_not_e164():
    with pytest.raises(ProviderError):
        SimulatedProvider().place_call(make_request("5550123"))


def test_poll_rejects_data_from_another_provider():
    with pytest.raises(ProviderError):
        SimulatedProvider().poll(CallRef("c", "CA123", {"call_sid": "CA123"}))
