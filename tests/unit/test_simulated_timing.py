"""The simulated provider's calls unfold over (injected) time; hang-ups cut them short."""

import pytest

from webapp.telephony.base import AgentSpec, CallRef, CallRequest
from webapp.telephony.simulated import SimulatedProvider


class Clock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def make_request(to_number="+14155550123", call_id="call-1") -> CallRequest:
    agent = AgentSpec("agent-1", "Ava", "You follow up on orders.", None, {}, {})
    return CallRequest(call_id, to_number, agent, None, {"customer_name": "Jane Roe"})


def place(provider, clock, to_number="+14155550123"):
    placed = provider.place_call(make_request(to_number))
    return CallRef("call-1", placed.provider_call_id, placed.provider_data)


def test_transcript_grows_over_time():
    clock = Clock()
    provider = SimulatedProvider(clock=clock)
    ref = place(provider, clock)
    data = ref.provider_data
    assert provider.poll(ref).status == "initiated"
    assert provider.poll(ref).turns == ()

    answered_at = clock.now + data["ring_seconds"]
    all_turns = data["turns"]
    seen = []
    for turn in all_turns:
        clock.now = answered_at + turn["end_seconds"] - 0.01
        before = provider.poll(ref)
        clock.now = answered_at + turn["end_seconds"]
        after = provider.poll(ref)
        assert before.status == after.status == "in_progress"
        assert len(after.turns) == len(before.turns) + 1
        assert after.turns[: len(before.turns)] == before.turns
        assert after.duration_seconds is None
        seen.append(after.turns[-1].as_dict())
    assert seen == all_turns

    clock.now = answered_at + data["end_seconds"]
    done = provider.poll(ref)
    assert done.status == "completed"
    assert done.duration_seconds == data["end_seconds"]
    assert provider.fetch_final(ref) == done


def test_ringing_then_in_progress_at_the_answer():
    clock = Clock()
    provider = SimulatedProvider(clock=clock)
    ref = place(provider, clock)
    placed_at = clock.now
    clock.now = placed_at + ref.provider_data["ring_seconds"] - 0.05
    assert provider.poll(ref).status == "initiated"
    clock.now = placed_at + ref.provider_data["ring_seconds"] + 0.05
    assert provider.poll(ref).status == "in_progress"


def test_no_answer_rings_until_it_fails():
    clock = Clock()
    provider = SimulatedProvider(clock=clock)
    ref = place(provider, clock, "+15005550001")
    clock.now += 29
    assert provider.poll(ref).status == "initiated"
    clock.now += 2
    assert provider.poll(ref).failure_reason == "no_answer"


def test_time_scale_compresses_the_call():
    clock = Clock()
    fast = SimulatedProvider(time_scale=20, clock=clock)
    ref = place(fast, clock)
    total = ref.provider_data["ring_seconds"] + ref.provider_data["end_seconds"]
    clock.now += total / 20 - 0.01
    assert fast.poll(ref).status == "in_progress"
    clock.now += 0.02
    assert fast.poll(ref).status == "completed"


def test_time_scale_travels_with_the_call_to_other_processes():
    clock = Clock()
    ref = place(SimulatedProvider(time_scale=20, clock=clock), clock)
    clock.now += 60
    elsewhere = SimulatedProvider(clock=clock)  # another process, default scale
    assert elsewhere.poll(ref).status == "completed"


def test_time_scale_must_be_positive():
    with pytest.raises(ValueError):
        SimulatedProvider(time_scale=0)


@pytest.mark.parametrize(
    ("reason", "status", "failure_reason", "end_reason"),
    [
        ("ended_via_api", "completed", None, "ended_via_api"),
        ("cancelled", "failed", "cancelled", None),
    ],
)
def test_hang_up_mid_call_truncates_the_transcript(reason, status, failure_reason, end_reason):
    clock = Clock()
    provider = SimulatedProvider(clock=clock)
    ref = place(provider, clock)
    answered_at = clock.now + ref.provider_data["ring_seconds"]
    third = ref.provider_data["turns"][2]
    clock.now = answered_at + third["end_seconds"] + 0.1
    live = provider.poll(ref)
    data = provider.hang_up(ref, reason)
    assert data["hangup"]["reason"] == reason
    hung = CallRef(ref.call_id, ref.provider_call_id, data)

    clock.now += 1_000
    snapshot = provider.poll(hung)
    assert snapshot.status == status
    assert snapshot.failure_reason == failure_reason
    assert snapshot.end_reason == end_reason
    assert snapshot.turns == live.turns
    assert len(snapshot.turns) == 3
    assert snapshot.duration_seconds == pytest.approx(third["end_seconds"] + 0.1, abs=0.02)


def test_hang_up_while_ringing_means_no_transcript():
    clock = Clock()
    provider = SimulatedProvider(clock=clock)
    ref = place(provider, clock)
    clock.now += 1
    data = provider.hang_up(ref, "cancelled")
    snapshot = provider.poll(CallRef(ref.call_id, ref.provider_call_id, data))
    assert (snapshot.status, snapshot.failure_reason) == ("failed", "cancelled")
    assert snapshot.turns == ()
    assert snapshot.duration_seconds == 0.0


def test_hang_up_after_the_end_changes_nothing():
    clock = Clock()
    provider = SimulatedProvider(clock=clock)
    ref = place(provider, clock)
    clock.now += 1_000
    before = provider.poll(ref)
    data = provider.hang_up(ref, "ended_via_api")
    assert "hangup" not in data
    assert provider.poll(CallRef(ref.call_id, ref.provider_call_id, data)) == before


def test_a_second_hang_up_keeps_the_first():
    clock = Clock()
    provider = SimulatedProvider(clock=clock)
    ref = place(provider, clock)
    clock.now += 20
    first = provider.hang_up(ref, "ended_via_api")
    clock.now += 5
    second = provider.hang_up(CallRef(ref.call_id, ref.provider_call_id, first), "cancelled")
    assert second == first
