"""The readable side of a report: a 1-3 sentence summary and the short excerpts sent in
webhook payloads."""

from __future__ import annotations

from collections.abc import Iterable

from .turns import read_turns

REPORT_EXCERPT_LIMIT = 280
TRANSCRIPT_EXCERPT_LIMIT = 500
_QUOTE_LIMIT = 100
_FAILURES = {
    "no_answer": "Nobody answered the call{to}.",
    "busy": "The line was busy{to}.",
    "voicemail": "The call{to} went to voicemail.",
    "dropped": "The call{to} dropped before it finished.",
    "ivr_unnavigable": "The call{to} reached an automated menu that did not lead to a person.",
    "cancelled": "The call{to} was cancelled before it finished.",
    "in_progress": "The call{to} is still in progress.",
    "no_conversation": "The call{to} connected but the callee did not speak.",
}
_ENDED_BY = {
    "ended_by_agent": "ended by the agent",
    "ended_by_callee": "ended by the callee",
    "ended_via_api": "ended via the API",
    "dashboard": "ended from the dashboard",
}


def build_summary(
    *,
    outcome: str,
    name: str | None,
    extracted: dict,
    main_answer: dict | None,
    metrics: dict,
    end_reason: str | None,
) -> str:
    """Who was reached and what came of it; the key facts given; how the call ended."""
    turns = metrics["turns"]
    if outcome in _FAILURES:
        opening = _FAILURES[outcome].format(to=f" to {name}" if name else "")
    elif outcome != "opted_out" and not _answered(outcome):
        opening = f"The call{f' to {name}' if name else ''} failed ({outcome.replace('_', ' ')})."
    else:
        opening = _reached(outcome, name, extracted, main_answer, turns)
    ending = _ending(metrics, end_reason) if turns and outcome != "in_progress" else ""
    return " ".join(part for part in (opening, _facts(extracted), ending) if part)


def _answered(outcome: str) -> bool:
    return outcome in (
        "transferred",
        "callback_requested",
        "confirmed",
        "declined",
        "completed",
    )


def _reached(
    outcome: str,
    name: str | None,
    extracted: dict,
    main_answer: dict | None,
    turns: int,
) -> str:
    who = f"Reached {name}" if name else "Reached the callee"
    if outcome == "opted_out":
        keypad = _by_keypad(extracted, "opt_out")
        return _sentence(f"{who}, who asked not to be called again{keypad}")
    if outcome == "transferred":
        return _sentence(f"{who}; the call was transferred")
    if outcome == "callback_requested":
        when = extracted["callback_requests"][0]["requested_time"]
        return _sentence(f"{who}, who asked to be called back{' ' + when if when else ''}")
    if outcome in ("confirmed", "declined"):
        return _sentence(f"{who}, who {_decision(outcome, extracted, main_answer)}")
    return _sentence(f"{who} for a conversation of {turns} turn{'' if turns == 1 else 's'}")


def _decision(outcome: str, extracted: dict, main_answer: dict | None) -> str:
    action = "confirm" if outcome == "confirmed" else "decline"
    keypad = _by_keypad(extracted, action)
    if keypad:
        return f"{outcome}{keypad}"
    if main_answer:
        word = "yes" if outcome == "confirmed" else "no"
        return f"said {word} to “{_shorten(main_answer['question'], _QUOTE_LIMIT)}”"
    return "said they were not interested"


def _by_keypad(extracted: dict, action: str) -> str:
    digits = [press["digit"] for press in extracted["dtmf"]["presses"] if press.get("action") == action]
    return f" by pressing {digits[-1]}" if digits else ""


def _facts(extracted: dict) -> str:
    facts = [f"email {email}" for email in extracted["emails"]]
    facts += [f"phone {number}" for number in extracted["phone_numbers"]]
    facts += [f"amount {amount['text']}" for amount in extracted["amounts"]]
    facts += [mention["text"] for mention in extracted["datetimes"][:3]]
    return f"Mentioned: {', '.join(facts)}." if facts else ""


def _ending(metrics: dict, end_reason: str | None) -> str:
    ended = _ENDED_BY.get(end_reason or "")
    lasted = f"The call lasted {format_duration(metrics['duration_seconds'])}"
    return f"{lasted} and was {ended}." if ended else f"{lasted}."


def _sentence(text: str) -> str:
    """End with a full stop unless the text already ends a sentence (inside a quote, too)."""
    return text if text.rstrip("”").endswith((".", "?", "!")) else f"{text}."


def format_duration(seconds: float) -> str:
    whole = round(seconds or 0)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m {rest}s" if minutes else f"{rest}s"


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:")
    return f"{cut}…"


def report_excerpt(report: dict) -> str:
    """The report's summary, at most 280 characters (for webhook payloads)."""
    return _shorten(str((report or {}).get("summary") or ""), REPORT_EXCERPT_LIMIT)


def transcript_excerpt(turns: Iterable[object]) -> str:
    """The first turns as "Agent: ... / User: ...", at most 500 characters."""
    text = " / ".join(f"{line.role.capitalize()}: {line.text}" for line in read_turns(turns))
    return _shorten(text, TRANSCRIPT_EXCERPT_LIMIT)
