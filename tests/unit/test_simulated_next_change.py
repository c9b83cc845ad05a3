"""next_change_at (the knows_next_change capability): the simulator says exactly when poll() will
next answer something new, so the engine can sync a call at that moment instead of polling it."""

from dataclasses import replace

import pytest

from tests.unit.test_simulated_timing import Clock, place
from webapp.telephony.simulated import SimulatedProvider

NUMBERS = ["+14155550123", "+15005550001", "+15005550002", "+15005550003", "+15005550004", "+15005550006"]


def _changes(provider, clock, ref) -> list:
    """Walk the call from change to change; each is new at its time and not a millisecond before."""
    snapshots = [provider.poll(ref)]
    while (at := provider.next_change_at(ref)) is not None:
        clock.now = at - 0.002
        assert provider.poll(ref) == snapshots[-1], "nothing changes before the announced time"
        clock.now = at
        snapshots.append(provider.poll(ref))
        assert snapshots[-1] != snapshots[-2], f"something changes at the announced time {at}"
    return snapshots


@pytest.mark.parametrize("number", NUMBERS)
@pytest.mark.parametrize("scale", [1.0, 7.0])
def test_every_change_of_a_call_is_announced(number, scale):
    clock = Clock()
    provider = SimulatedProvider(time_scale=scale, clock=clock)
    ref = place(provider, clock, number)
    snapshots = _changes(provider, clock, ref)
    assert snapshots[-1].is_terminal
    assert len(snapshots[-1].turns) == len(ref.provider_data["turns"]), "every turn was announced"


def test_after_a_hang_up_nothing_more_is_announced():
    clock = Clock()
    provider = SimulatedProvider(clock=clock)
    ref = place(provider, clock)
    clock.now = provider.next_change_at(ref)  # answered
    assert provider.next_change_at(ref) > clock.now
    ref = replace(ref, provider_data=provider.hang_up(ref, "ended_via_api"))
    assert provider.poll(ref).is_terminal and provider.next_change_at(ref) is None
