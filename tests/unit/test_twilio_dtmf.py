"""Key-press tones: synthesised as µ-law, decoded back by Goertzel to the same digits."""

import random
import struct
import warnings

import pytest

from webapp.telephony.twilio import dtmf, mulaw


def test_every_key_round_trips():
    digits = "1234567890*#ABCD"
    assert dtmf.decode_digits(dtmf.digits_audio(digits)) == digits


def test_repeated_keys_and_waits_are_separate_presses():
    audio = dtmf.digits_audio("11w2#")
    assert dtmf.decode_digits(audio) == "112#"
    wait = mulaw.SAMPLE_RATE * dtmf.WAIT_MS // 1000
    assert len(audio) >= 4 * 800 + wait  # four tones with gaps, plus the half-second wait


def test_shortest_standard_tones_are_heard():
    assert dtmf.decode_digits(dtmf.digits_audio("159", tone_ms=40, gap_ms=40)) == "159"


def test_tone_frequencies_are_the_standard_pairs():
    """The strongest row and column of each key's audio are its 697-1633 Hz pair."""
    for key, (low, high) in dtmf.FREQUENCIES.items():
        samples = mulaw.decode(dtmf.digits_audio(key, gap_ms=0))[:400]
        rows = {f: dtmf.goertzel_power(samples, f) for f in dtmf.ROWS}
        columns = {f: dtmf.goertzel_power(samples, f) for f in dtmf.COLUMNS}
        assert max(rows, key=rows.get) == low and max(columns, key=columns.get) == high


def test_tones_survive_noise_and_silence_and_speechlike_audio_are_not_keys():
    rng = random.Random(7)
    noisy = mulaw.encode(
        max(-32768, min(32767, s + rng.randint(-1500, 1500))) for s in mulaw.decode(dtmf.digits_audio("3*7"))
    )
    assert dtmf.decode_digits(noisy) == "3*7"
    assert dtmf.decode_digits(bytes([mulaw.SILENCE]) * 8000) == ""
    voice = mulaw.encode(int(8000 * rng.uniform(-1, 1)) for _ in range(8000))  # broadband noise
    assert dtmf.decode_digits(voice) == ""


def test_frames_are_20ms_and_padded():
    chunks = dtmf.frames(dtmf.digits_audio("5"))
    assert all(len(c) == mulaw.FRAME_SAMPLES for c in chunks)
    assert chunks[-1].endswith(bytes([mulaw.SILENCE]))


def test_unknown_key_is_refused():
    with pytest.raises(ValueError):
        dtmf.digits_audio("1x")


def test_mulaw_matches_the_g711_reference():
    """Same bytes as CPython's audioop (a C implementation of G.711), both ways."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        audioop = pytest.importorskip("audioop")
    samples = list(range(-32768, 32768, 7))
    linear = struct.pack(f"<{len(samples)}h", *samples)
    assert mulaw.encode(samples) == audioop.lin2ulaw(linear, 2)
    assert struct.pack("<256h", *mulaw.DECODE) == audioop.ulaw2lin(bytes(range(256)), 2)
