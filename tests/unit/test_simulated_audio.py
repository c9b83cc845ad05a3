"""Recordings: real WAV audio aligned with the transcript, from espeak-ng or a placeholder."""

import io
import itertools
import math
import shutil
import wave
from array import array

import pytest

from webapp.telephony.base import AgentSpec, CallRef, CallRequest
from webapp.telephony.simulated import SimulatedProvider

HAS_ESPEAK = shutil.which("espeak-ng") is not None
SPEECH_RMS = 300
SILENCE_RMS = 30


class Clock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def call(to_number="+14155550123", use_espeak=False, dtmf_rules=None, finish=True):
    agent = AgentSpec("agent-1", "Ava", "You confirm orders.", None, {}, dtmf_rules or {})
    request = CallRequest("call-1", to_number, agent, None, {"order_id": "A-1001"})
    clock = Clock()
    provider = SimulatedProvider(clock=clock, use_espeak=use_espeak)
    placed = provider.place_call(request)
    if finish:
        clock.now += 10_000
    return (
        provider,
        clock,
        CallRef("call-1", placed.provider_call_id, placed.provider_data),
    )


def read_wav(data: bytes) -> tuple[array, int]:
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getnchannels() == 1
        assert wav.getsampwidth() == 2
        assert wav.getframerate() in (8_000, 16_000)
        return array("h", wav.readframes(wav.getnframes())), wav.getframerate()


def rms(samples: array, rate: int, start: float, end: float) -> float:
    part = samples[int(start * rate) : int(end * rate)]
    return math.sqrt(sum(value * value for value in part) / max(1, len(part)))


def check_recording(provider, ref):
    recording = provider.fetch_recording(ref)
    assert recording is not None
    assert recording.content_type == "audio/wav"
    samples, rate = read_wav(recording.data)
    snapshot = provider.poll(ref)
    assert len(samples) / rate >= snapshot.turns[-1].end_seconds
    assert len(samples) / rate == pytest.approx(snapshot.duration_seconds, abs=0.01)
    for turn in snapshot.turns:
        assert rms(samples, rate, turn.start_seconds, turn.end_seconds) > SPEECH_RMS, turn
    for before, after in itertools.pairwise(snapshot.turns):
        if after.start_seconds - before.end_seconds > 0.2:
            gap = rms(samples, rate, before.end_seconds + 0.05, after.start_seconds - 0.05)
            assert gap < SILENCE_RMS
    return samples, rate, snapshot


def test_placeholder_recording_is_audible_in_turns_and_quiet_between():
    provider, _, ref = call(use_espeak=False)
    samples, rate, snapshot = check_recording(provider, ref)
    agent, user = (next(t for t in snapshot.turns if t.role == role) for role in ("agent", "user"))
    assert crossings(samples, rate, agent) != crossings(samples, rate, user)


def crossings(samples, rate, turn) -> int:
    """Zero crossings per second in a turn: a rough pitch, to tell agent and callee apart."""
    part = samples[int(turn.start_seconds * rate) : int(turn.end_seconds * rate)]
    changes = sum(1 for a, b in itertools.pairwise(part) if (a < 0) != (b < 0))
    return round(changes / (turn.end_seconds - turn.start_seconds), -1)


@pytest.mark.skipif(not HAS_ESPEAK, reason="espeak-ng is not installed")
def test_espeak_recording_is_speech_aligned_with_the_transcript():
    provider, _, ref = call(use_espeak=True)
    espeak_samples, _, _ = check_recording(provider, ref)
    placeholder_samples, _, _ = check_recording(call(use_espeak=False)[0], ref)
    assert espeak_samples != placeholder_samples


def test_key_presses_are_heard_as_tones():
    provider, _, ref = call("+15005550006", dtmf_rules={"inputs": {"1": {"action": "confirm"}}})
    samples, rate, snapshot = check_recording(provider, ref)
    press = next(e for e in snapshot.events if e["digit"] == "1")
    assert rms(samples, rate, press["at_seconds"], press["at_seconds"] + 0.15) > SPEECH_RMS


def test_voicemail_greeting_is_recorded():
    provider, _, ref = call("+15005550003")
    check_recording(provider, ref)


@pytest.mark.parametrize("number", ["+15005550001", "+15005550002"])
def test_unanswered_calls_have_no_recording(number):
    provider, _, ref = call(number)
    assert provider.fetch_recording(ref) is None


def test_no_recording_while_the_call_is_live():
    provider, clock, ref = call(finish=False)
    clock.now += ref.provider_data["ring_seconds"] + 10
    assert provider.poll(ref).status == "in_progress"
    assert provider.fetch_recording(ref) is None


def test_recording_of_a_hung_up_call_stops_at_the_hang_up():
    provider, clock, ref = call(finish=False)
    clock.now += ref.provider_data["ring_seconds"] + 15
    data = provider.hang_up(ref, "ended_via_api")
    hung = CallRef(ref.call_id, ref.provider_call_id, data)
    samples, rate = read_wav(provider.fetch_recording(hung).data)
    assert len(samples) / rate == pytest.approx(15, abs=0.05)
