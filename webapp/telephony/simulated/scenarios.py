"""Which simulated scenario a dialled number triggers (the documented test numbers)."""

from __future__ import annotations

NO_ANSWER = "no_answer"
BUSY = "busy"
VOICEMAIL = "voicemail"
DROPPED = "dropped"
IVR = "ivr"
KEYPRESS = "keypress"
OPT_OUT = "opt_out"
CONVERSATION = "conversation"

TEST_NUMBERS: dict[str, str] = {
    "+15005550001": NO_ANSWER,
    "+15005550002": BUSY,
    "+15005550003": VOICEMAIL,
    "+15005550004": DROPPED,
    "+15005550005": IVR,
    "+15005550006": KEYPRESS,
    "+15005550007": OPT_OUT,
}


def normalize_number(number: str) -> str:
    """Strip the spaces, dashes, dots and brackets people type into phone numbers."""
    kept = "".join(ch for ch in number.strip() if ch.isdigit() or ch == "+")
    return kept


def scenario_for(to_number: str) -> str:
    """The scenario for a dialled number; any number that is not a test number converses."""
    return TEST_NUMBERS.get(normalize_number(to_number), CONVERSATION)
