"""Call recordings: a mono 16-bit WAV with each turn's audio placed at its start time.

Speech comes from espeak-ng when it is installed (one process per turn, agent and callee in
different voices); otherwise each turn is an audible placeholder: tone bursts, one per word,
lower for the callee than for the agent. Key presses are real DTMF tones.

Each turn's clip depends only on its words, role, length and voice, and the simulator's lines
repeat from call to call: clips (and tones) are kept in a bounded per-process cache, so a recording
is mostly copying, not synthesis (synthesizing and resampling every turn again cost ~0.25 s of the
worker's CPU per call).
"""

from __future__ import annotations

import io
import itertools
import math
import shutil
import struct
import subprocess
import sys
import threading
import wave
from array import array
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache

from webapp.telephony.base import Turn

SAMPLE_RATE = 16_000
ESPEAK_VOICES = {"agent": ("+f3", 60), "user": ("+m3", 35)}  # variant, pitch (0-99)
PLACEHOLDER_HZ = {"agent": 440.0, "user": 280.0}
DTMF_HZ = {
    "1": (697, 1209), "2": (697, 1336), "3": (697, 1477), "A": (697, 1633),
    "4": (770, 1209), "5": (770, 1336), "6": (770, 1477), "B": (770, 1633),
    "7": (852, 1209), "8": (852, 1336), "9": (852, 1477), "C": (852, 1633),
    "*": (941, 1209), "0": (941, 1336), "#": (941, 1477), "D": (941, 1633),
}  # fmt: skip
DTMF_SECONDS = 0.2
FADE_SECONDS = 0.02
CACHED_CLIPS = 128  # turn clips kept per process (~100 kB each)


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


def is_key_press(turn: Turn) -> bool:
    """Turns like `[pressed 1]` are heard as DTMF tones, not speech."""
    return turn.text.startswith("[pressed ")


def _samples(count: int) -> array:
    return array("h", bytes(2 * max(0, count)))


def _parse_wav(data: bytes) -> tuple[array, int]:
    """Samples and rate of a 16-bit mono WAV, tolerating the unknown sizes espeak-ng streams."""
    rate, pos, body = 22_050, 12, b""
    while pos + 8 <= len(data):
        chunk, size = (
            data[pos : pos + 4],
            struct.unpack("<I", data[pos + 4 : pos + 8])[0],
        )
        if chunk == b"fmt ":
            rate = struct.unpack("<I", data[pos + 12 : pos + 16])[0]
        if chunk == b"data":
            body = data[pos + 8 :]
            break
        pos += 8 + size + (size & 1)
    samples = array("h", body[: len(body) // 2 * 2])
    if sys.byteorder == "big":
        samples.byteswap()
    return samples, rate


def resample(samples: array, source_rate: int, target_rate: int = SAMPLE_RATE) -> array:
    """Linear-interpolation resampling, smoothing first when the rate goes down."""
    if source_rate == target_rate or not samples:
        return samples
    if source_rate > target_rate:
        samples = array("h", [(a + b) // 2 for a, b in itertools.pairwise(samples)])
    step, last = source_rate / target_rate, len(samples) - 1
    out = _samples(int(len(samples) / step))
    for index in range(len(out)):
        position = index * step
        left = int(position)
        right = min(left + 1, last)
        out[index] = int(samples[left] + (samples[right] - samples[left]) * (position - left))
    return out


def fit(samples: array, length: int) -> array:
    """Exactly `length` samples: cut with a short fade-out, or padded with silence."""
    if len(samples) <= length:
        return samples + _samples(length - len(samples))
    clip = samples[:length]
    fade = min(length, int(FADE_SECONDS * SAMPLE_RATE))
    for index in range(fade):
        clip[length - fade + index] = int(clip[length - fade + index] * (fade - index) / fade)
    return clip


def _espeak(text: str, voice: str, role: str, words_per_minute: int) -> array | None:
    variant, pitch = ESPEAK_VOICES[role]
    command = ["espeak-ng", "--stdout", "--stdin", "-v", f"{voice}{variant}"]
    command += ["-s", str(words_per_minute), "-p", str(pitch)]
    try:
        done = subprocess.run(command, input=text.encode(), capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0 or len(done.stdout) < 64:
        return None
    samples, rate = _parse_wav(done.stdout)
    return resample(samples, rate) if samples else None


def speak(text: str, role: str, seconds: float, voice: str = "en-us") -> array | None:
    """espeak-ng speech of a turn at a rate that fits `seconds`; None if espeak-ng failed."""
    words = max(1, len(text.split()))
    rate = int(min(450, max(80, words / max(seconds - 0.2, 0.3) * 60)))
    samples = _espeak(text, voice, role, rate)
    slot = seconds * SAMPLE_RATE
    if samples is not None and len(samples) > slot * 1.03 and rate < 450:
        faster = int(min(450, rate * len(samples) / slot * 1.05))
        samples = _espeak(text, voice, role, faster) or samples
    return samples


def _burst(frequency: float, length: int) -> array:
    """A vowel-like burst: a tone with two overtones under a smooth rise and fall."""
    out = _samples(length)
    for index in range(length):
        t = index / SAMPLE_RATE
        envelope = math.sin(math.pi * index / length)
        wave_value = (
            math.sin(2 * math.pi * frequency * t)
            + 0.5 * math.sin(4 * math.pi * frequency * t)
            + 0.25 * math.sin(6 * math.pi * frequency * t)
        )
        out[index] = int(9_000 * envelope * wave_value)
    return out


def placeholder(text: str, role: str, length: int) -> array:
    """One tone burst per word across the slot; agent and callee at different pitches."""
    words = max(1, len(text.split()))
    period = length // words
    burst = _burst(PLACEHOLDER_HZ[role], max(1, int(period * 0.7)))
    pause = _samples(period - len(burst))
    out = _samples(0)
    for _ in range(words):
        out += burst + pause
    return fit(out, length)


@lru_cache(maxsize=32)
def dtmf_tone(key: str, seconds: float = DTMF_SECONDS) -> array:
    """The two-frequency tone a phone plays for a key (shared: callers must not change it)."""
    low, high = DTMF_HZ.get(key.upper(), (941, 1336))
    length = int(seconds * SAMPLE_RATE)
    step_low = 2 * math.pi * low / SAMPLE_RATE
    step_high = 2 * math.pi * high / SAMPLE_RATE
    tone = (math.sin(step_low * i) + math.sin(step_high * i) for i in range(length))
    return array("h", (int(7_000 * value) for value in tone))


def _place(track: array, clip: array, start: int) -> None:
    start = max(0, start)
    end = min(len(track), start + len(clip))
    if end > start:
        track[start:end] = clip[: end - start]


def to_wav(samples: array, rate: int = SAMPLE_RATE) -> bytes:
    if sys.byteorder == "big":
        samples = array("h", samples)
        samples.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


def render_recording(
    turns: Iterable[Turn],
    events: Iterable[dict],
    duration_seconds: float,
    *,
    use_espeak: bool | None = None,
    voice: str = "en-us",
) -> bytes:
    """The WAV of a call: `duration_seconds` long (at least to the last turn's end)."""
    turns = list(turns)
    if use_espeak is None:
        use_espeak = espeak_available()
    length = max([duration_seconds] + [turn.end_seconds for turn in turns])
    track = _samples(math.ceil(length * SAMPLE_RATE))
    spoken = [turn for turn in turns if not is_key_press(turn)]
    keys = [(turn.text, turn.role, round(_seconds(turn), 2), voice if use_espeak else None) for turn in spoken]
    with _clips_lock:
        missing = list(dict.fromkeys(key for key in keys if key not in _clips))
    rendered: dict[tuple, tuple[array, bool]] = {}
    if missing:
        with ThreadPoolExecutor(max_workers=4 if use_espeak else 1) as pool:
            rendered = dict(zip(missing, pool.map(lambda key: _render_clip(*key), missing), strict=True))
    for turn, key in zip(spoken, keys, strict=True):
        _place(track, _clip(key, rendered), int(turn.start_seconds * SAMPLE_RATE))
    for event in events:
        if event.get("type") == "dtmf":
            _place(
                track,
                dtmf_tone(str(event["digit"])),
                int(event["at_seconds"] * SAMPLE_RATE),
            )
    return to_wav(track)


_clips: dict[tuple, array] = {}  # (text, role, seconds, voice or None for a placeholder) -> clip, oldest first
_clips_lock = threading.Lock()


def _render_clip(text: str, role: str, seconds: float, voice: str | None) -> tuple[array, bool]:
    """A turn's audio, exactly its slot long, and whether it may be kept: espeak-ng speech in
    `voice`, or the placeholder when voice is None or espeak-ng failed (kept only when asked for)."""
    slot = int(seconds * SAMPLE_RATE)
    clip = speak(text, role, seconds, voice) if voice else None
    if clip:
        return fit(clip, slot), True
    return placeholder(text, role, slot), voice is None


def _clip(key: tuple, rendered: dict[tuple, tuple[array, bool]]) -> array:
    """The clip from the cache, else as rendered for this recording (or rendered now)."""
    with _clips_lock:
        cached = _clips.get(key)
    if cached is not None:
        return cached
    clip, keep = rendered.get(key) or _render_clip(*key)
    if keep:
        with _clips_lock:
            _clips[key] = clip
            while len(_clips) > CACHED_CLIPS:
                del _clips[next(iter(_clips))]
    return clip


def _seconds(turn: Turn) -> float:
    return max(0.1, turn.end_seconds - turn.start_seconds)
