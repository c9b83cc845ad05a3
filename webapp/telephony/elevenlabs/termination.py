"""How an ElevenLabs phone conversation ended, from its free-text `termination_reason`, its tool
calls, `phone_call.call_result` and Twilio's answering-machine verdict.

Only the texts listed here are interpreted; any other text is kept verbatim on the call
(`termination_reason`) and its ending is `other`, never guessed from a word in it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# end_reason of a completed call
ENDED_BY_AGENT = "ended_by_agent"
ENDED_BY_CALLEE = "ended_by_callee"
SILENCE_TIMEOUT = "silence_timeout"
MAX_DURATION = "max_duration"
TRANSFERRED = "transferred"
OTHER = "other"

# Twilio AnsweredBy verdicts that mean a machine (or a fax) took the call.
MACHINE_VERDICTS = frozenset({"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"})
# A WebSocket close code in "Client disconnected: <code>": normal closes are the callee hanging
# up; the others are the line dropping.
NORMAL_CLOSE_CODES = frozenset({1000, 1001, 1005})


@dataclass(frozen=True)
class Ending:
    status: str  # completed | failed
    end_reason: str | None = None  # when completed
    failure_reason: str | None = None  # when failed


_MAX_DURATION = Ending("completed", MAX_DURATION)
# (pattern over the whole text, lower-cased and without a trailing period) -> Ending
_KNOWN: tuple[tuple[re.Pattern, Ending], ...] = tuple(
    (re.compile(pattern), ending)
    for pattern, ending in (
        (r"end_call tool was called", Ending("completed", ENDED_BY_AGENT)),
        (r"voicemail_detection tool was called", Ending("failed", failure_reason="voicemail")),
        (r"transfer_to_(number|agent) tool was called", Ending("completed", TRANSFERRED)),
        (r"call ended by remote party", Ending("completed", ENDED_BY_CALLEE)),
        (r"(the )?(user|caller|callee) (hung up|ended the call|disconnected)", Ending("completed", ENDED_BY_CALLEE)),
        (r"(silence|inactivity)( end call)? timeout( reached)?", Ending("completed", SILENCE_TIMEOUT)),
        (r"(conversation )?ended (due to|after) (user )?(silence|inactivity)", Ending("completed", SILENCE_TIMEOUT)),
        (r"(exceeded )?max(imum)? (call |conversation )?duration( reached| exceeded)?", _MAX_DURATION),
        (r"conversation exceeded (the )?max(imum)? duration", _MAX_DURATION),
        (r"call failed: busy", Ending("failed", failure_reason="busy")),
        (r"call was not answered|no answer", Ending("failed", failure_reason="no_answer")),
        (r".*exceeds your quota limit.*", Ending("failed", failure_reason="provider_error")),
    )
)
_CLIENT_DISCONNECTED = re.compile(r"client disconnected(?::\s*(\d+))?")


def _normalized(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower()).rstrip(".")


def from_text(termination_reason: str | None) -> Ending | None:
    """The ending a known termination text stands for; None for an empty or unknown text."""
    if not termination_reason or not termination_reason.strip():
        return None
    text = _normalized(termination_reason)
    match = _CLIENT_DISCONNECTED.fullmatch(text)
    if match:
        code = int(match.group(1)) if match.group(1) else 1000
        if code in NORMAL_CLOSE_CODES:
            return Ending("completed", ENDED_BY_CALLEE)
        return Ending("failed", failure_reason="dropped")
    for pattern, ending in _KNOWN:
        if pattern.fullmatch(text):
            return ending
    return None


def voicemail_evidence(tools_called: set[str], call_result: str | None, answered_by: str | None) -> bool:
    return "voicemail_detection" in tools_called or call_result == "voicemail" or answered_by in MACHINE_VERDICTS


def classify(
    termination_reason: str | None,
    *,
    tools_called: set[str] = frozenset(),
    call_result: str | None = None,
    answered_by: str | None = None,
) -> Ending:
    """The ending of a conversation that is over. Voicemail wins over anything else (the agent's
    voicemail tool, call_result or a machine verdict); then the termination text; an unknown or
    missing text is `other`."""
    if voicemail_evidence(tools_called, call_result, answered_by):
        return Ending("failed", failure_reason="voicemail")
    if call_result in ("busy", "no_answer", "no-answer"):
        return Ending("failed", failure_reason="busy" if call_result == "busy" else "no_answer")
    known = from_text(termination_reason)
    if known is not None:
        return known
    if not (termination_reason or "").strip() and "end_call" in tools_called:
        return Ending("completed", ENDED_BY_AGENT)  # no text at all, but the agent hung up
    return Ending("completed", OTHER)
