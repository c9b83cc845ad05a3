"""Key presses as sound: DTMF tones synthesised as µ-law frames (what the agent sends to phone
menus, since Media Streams have no "send digits" message) and a Goertzel decoder that reads
them back (used by tests and by the emulated callee)."""

from __future__ import annotations

import math

from .mulaw import FRAME_SAMPLES, SAMPLE_RATE, SILENCE, decode, encode

ROWS = (697, 770, 852, 941)
COLUMNS = (1209, 1336, 1477, 1633)
KEYPAD = ("123A", "456B", "789C", "*0#D")
FREQUENCIES = {key: (ROWS[r], COLUMNS[c]) for r, line in enumerate(KEYPAD) for c, key in enumerate(line)}
TONE_MS = 100  # ITU-T Q.24 asks for at least 40 ms of tone and 40 ms of pause; carriers like ~100
GAP_MS = 100
WAIT_MS = 500  # "w" in a digit string: half a second, as in Twilio's sendDigits
AMPLITUDE = 0.35 * 32767  # per tone: the pair peaks at -3 dBFS
FRAME_BYTES = FRAME_SAMPLES


def tone_samples(key: str, milliseconds: int = TONE_MS) -> list[int]:
    low, high = FREQUENCIES[key.upper()]
    count = SAMPLE_RATE * milliseconds // 1000
    return [
        round(
            AMPLITUDE * (math.sin(2 * math.pi * low * n / SAMPLE_RATE) + math.sin(2 * math.pi * high * n / SAMPLE_RATE))
        )
        for n in range(count)
    ]


def digits_audio(digits: str, tone_ms: int = TONE_MS, gap_ms: int = GAP_MS) -> bytes:
    """µ-law audio for a digit string ("w" waits half a second), starting and ending with a gap."""
    gap = bytes([SILENCE]) * (SAMPLE_RATE * gap_ms // 1000)
    out = bytearray(gap)
    for key in digits:
        if key.lower() == "w":
            out += bytes([SILENCE]) * (SAMPLE_RATE * WAIT_MS // 1000)
            continue
        if key.upper() not in FREQUENCIES:
            raise ValueError(f"not a DTMF key: {key!r}")
        out += encode(tone_samples(key, tone_ms)) + gap
    return bytes(out)


def frames(audio: bytes, size: int = FRAME_BYTES) -> list[bytes]:
    """20 ms frames, the last one padded with silence."""
    chunks = [audio[i : i + size] for i in range(0, len(audio), size)]
    if chunks and len(chunks[-1]) < size:
        chunks[-1] = chunks[-1] + bytes([SILENCE]) * (size - len(chunks[-1]))
    return chunks


def goertzel_power(samples: list[int], frequency: float) -> float:
    coefficient = 2 * math.cos(2 * math.pi * frequency / SAMPLE_RATE)
    previous = before = 0.0
    for sample in samples:
        previous, before = sample + coefficient * previous - before, previous
    return previous * previous + before * before - coefficient * previous * before


def detect_key(samples: list[int]) -> str | None:
    """The key whose two tones dominate this block, or None (silence, speech, one tone)."""
    energy = sum(s * s for s in samples)
    if not samples or energy / len(samples) < 500_000:  # quieter than about -30 dBFS
        return None
    rows = [goertzel_power(samples, f) for f in ROWS]
    columns = [goertzel_power(samples, f) for f in COLUMNS]
    row, column = max(range(4), key=rows.__getitem__), max(range(4), key=columns.__getitem__)
    # both tones must carry most of the block's energy, and clearly beat the other candidates
    share = (rows[row] + columns[column]) * 2 / (len(samples) * energy)
    if share < 0.5:
        return None
    if any(p * 4 > rows[row] for i, p in enumerate(rows) if i != row):
        return None
    if any(p * 4 > columns[column] for i, p in enumerate(columns) if i != column):
        return None
    return KEYPAD[row][column]


def decode_digits(audio: bytes, block: int = FRAME_BYTES) -> str:
    """The digits in µ-law audio, read in `block`-sample windows moved half a window at a time:
    a key counts once two windows in a row hear it, and a new press of the same key needs a
    window without it first (so a long tone is one press, and 40 ms tones are still heard)."""
    digits, previous, current = [], None, None
    samples = decode(audio)
    for start in range(0, len(samples) - block + 1, block // 2):
        key = detect_key(samples[start : start + block])
        if key is not None and key == previous and key != current:
            digits.append(key)
            current = key
        if key is None:
            current = None
        previous = key
    return "".join(digits)
