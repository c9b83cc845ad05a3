"""G.711 µ-law, the audio of Twilio Media Streams (8 kHz, mono, 8 bits per sample).

Audio passes through the bridge untouched; these are only needed to synthesise key-press tones
and to measure audio (tests, the Goertzel decoder)."""

from __future__ import annotations

BIAS = 0x84
CLIP_14 = 8159
BIAS_14 = 0x21
SAMPLE_RATE = 8000
FRAME_SAMPLES = 160  # 20 ms, the size of Twilio's media frames


def _decode(byte: int) -> int:
    byte = ~byte & 0xFF
    sign, exponent, mantissa = byte & 0x80, (byte >> 4) & 0x07, byte & 0x0F
    magnitude = ((mantissa << 3) + BIAS) << exponent
    return BIAS - magnitude if sign else magnitude - BIAS


DECODE = tuple(_decode(b) for b in range(256))


def encode_sample(sample: int) -> int:
    """One 16-bit linear sample as a µ-law byte (G.711, as the C reference and audioop do it)."""
    value = sample >> 2  # 14-bit, arithmetic shift: -1 stays -1
    mask = 0xFF
    if value < 0:
        value, mask = -value, 0x7F
    value = min(value, CLIP_14) + BIAS_14
    segment = max(value.bit_length() - 6, 0)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def encode(samples) -> bytes:
    return bytes(encode_sample(int(s)) for s in samples)


def decode(data: bytes) -> list[int]:
    return [DECODE[b] for b in data]


SILENCE = encode_sample(0)
