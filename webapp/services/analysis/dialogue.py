"""What the callee asked for and how the call was steered: callbacks, opt-outs, transfers,
keypad presses; plus who answered and whether it was only a voicemail greeting."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from .answers import YES, classify_answer
from .datetimes import describe, find_datetimes
from .turns import Line, negated, next_user_line, normalise

_CALLBACK_ASKED = re.compile(
    r"\b(?:call (?:me |us )?back|call (?:me|us) (?:again|later|tomorrow|another time|next week)"
    r"|ring (?:me )?back|try (?:me |us )?(?:again|back|later)|give me a call|call later"
    r"|reach me (?:later|tomorrow)|(?:a )?(?:better|another|different) time"
    r"|not a good time|bad time|can't talk (?:right )?now|busy right now)\b"
)
_CALLBACK_OFFERED = re.compile(
    r"\b(?:call you (?:back|again|later)|call back|(?:good|better|convenient) time to "
    r"(?:call|reach))\b"
)
_OPT_OUT = re.compile(
    r"\b(?:(?:stop|quit) (?:calling|contacting|phoning|bothering)"
    r"|(?:don'?t|do not|never) (?:ever )?(?:call|contact|phone|ring)"
    r"(?: me| us| this number| here)? ?(?:again|anymore|any more|back)"
    r"|do[- ]not[- ]call list|(?:remove|take|delete) (?:me|us|my (?:number|name|details)"
    r"|this number) (?:off|from)|unsubscribe|opt(?: |-)?out|no more calls|lose (?:my|this) number)\b"
)
_TRANSFER = re.compile(
    r"\b(?:transferring you|(?:i'll|i will|let me|i'm going to) (?:transfer|connect) you"
    r"|putting you through|connecting you (?:now|to))\b"
)
_VOICEMAIL = re.compile(
    r"\b(?:leave (?:a|your) message|after the (?:tone|beep)|voicemail|voice mail|mailbox"
    r"|(?:can't|cannot|can not) (?:take|answer) (?:your|the) call)\b"
)
_NAME_INTRO = re.compile(r"\b(?:[Mm]y name is|[Tt]his is|[Ii]t's|[Ii]t is) ([A-Z][a-z]+(?: [A-Z][a-z]+)?)")
_NOT_NAMES = frozenset(
    (
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
        "January", "February", "March", "April", "May", "June", "July", "August",
        "September", "October", "November", "December", "The", "This", "That", "It", "Yes",
        "No", "Not",
    )
)  # fmt: skip
_CONTEXT_NAME_KEYS = (
    "name",
    "customer_name",
    "contact_name",
    "full_name",
    "recipient_name",
)


def find_callback_requests(lines: list[Line]) -> list[dict]:
    """Callbacks the callee asked for, or accepted when the agent offered one, with the time
    they gave (from the same turn, or their next reply when they said it after being asked)."""
    requests = []
    for line in lines:
        if line.is_user and _says(_CALLBACK_ASKED, line.text):
            mentions = find_datetimes(line.text) or _later_mentions(lines, line.index)
            requests.append(_callback(line, mentions))
        elif line.is_agent and not requests and _says(_CALLBACK_OFFERED, line.text):
            reply = next_user_line(lines, line.index)
            if reply and not _says(_CALLBACK_ASKED, reply.text):
                requests.extend(_accepted_offer(line, reply))
    return requests


def _says(phrases: re.Pattern, text: str) -> bool:
    """Whether text contains one of the phrases, not negated ("don't call me back")."""
    plain = normalise(text)
    return any(not negated(plain, match.start()) for match in phrases.finditer(plain))


def _later_mentions(lines: list[Line], index: int) -> list[dict]:
    reply = next((line for line in lines[index + 1 : index + 3] if line.is_user), None)
    return find_datetimes(reply.text) if reply else []


def _accepted_offer(offer: Line, reply: Line) -> list[dict]:
    """A yes keeps the offered time (plus any detail the reply adds); otherwise a reply that
    names a time is a counter-proposal."""
    said = find_datetimes(reply.text)
    if classify_answer(reply.text) == YES:
        offered = find_datetimes(offer.text)
        known = [_without_text(mention) for mention in offered]
        extra = [mention for mention in said if _without_text(mention) not in known]
        return [_callback(reply, offered + extra)]
    return [_callback(reply, said)] if said else []


def _without_text(mention: dict) -> dict:
    return {key: value for key, value in mention.items() if key != "text"}


def _callback(line: Line, mentions: list[dict]) -> dict:
    return {
        "text": line.text,
        "requested_time": describe(mentions),
        "datetimes": mentions,
        "at_seconds": round(line.start, 2),
    }


def find_opt_outs(lines: list[Line], presses: list[dict]) -> list[dict]:
    """Requests not to be called again: said by the callee, or a keypad opt_out action."""
    spoken = [
        {"source": "speech", "text": line.text, "at_seconds": round(line.start, 2)}
        for line in lines
        if line.is_user and _OPT_OUT.search(normalise(line.text))
    ]
    keyed = [
        {
            "source": "dtmf",
            "digit": press["digit"],
            "at_seconds": press.get("at_seconds"),
        }
        for press in presses
        if press.get("action") == "opt_out"
    ]
    return sorted(spoken + keyed, key=lambda item: item["at_seconds"] or 0.0)


def summarise_dtmf(events: Iterable[Mapping]) -> dict:
    """Keypad presses in order: {"digits": "19", "presses": [{digit, action?, label?, ...}]}."""
    presses = [_press(event) for event in events or () if event.get("type") == "dtmf"]
    presses.sort(key=lambda press: press.get("at_seconds") or 0.0)
    return {"digits": "".join(press["digit"] for press in presses), "presses": presses}


def _press(event: Mapping) -> dict:
    press = {"digit": str(event.get("digit", ""))}
    for key in ("action", "label", "to_number"):
        if event.get(key) is not None:
            press[key] = str(event[key])
    if isinstance(event.get("at_seconds"), (int, float)):
        press["at_seconds"] = round(float(event["at_seconds"]), 2)
    return press


def was_transferred(lines: list[Line], events: Iterable[Mapping], presses: list[dict]) -> bool:
    if any(press.get("action") == "transfer" for press in presses):
        return True
    if any(event.get("type") in ("transfer", "transferred") for event in events or ()):
        return True
    return any(line.is_agent and _TRANSFER.search(normalise(line.text)) for line in lines)


def only_voicemail_greeting(lines: list[Line]) -> bool:
    """Every callee turn sounds like a recorded greeting ("leave a message after the tone")."""
    spoken = [line for line in lines if line.is_user]
    return bool(spoken) and all(_VOICEMAIL.search(normalise(line.text)) for line in spoken)


def spoken_name(lines: list[Line]) -> str | None:
    """A name the callee gave for themselves ("my name is Dana", "this is Dana Reed")."""
    for line in lines:
        for match in _NAME_INTRO.finditer(line.text) if line.is_user else ():
            name = match.group(1)
            if name.split()[0] not in _NOT_NAMES:
                return name
    return None


def context_name(context_data: Mapping | None) -> str | None:
    """The callee's name as the task's context gives it, if it does."""
    if not isinstance(context_data, Mapping):
        return None
    context = context_data
    for key in _CONTEXT_NAME_KEYS:
        if isinstance(context.get(key), str) and context[key].strip():
            return context[key].strip()
    first, last = context.get("first_name"), context.get("last_name")
    full = " ".join(part.strip() for part in (first, last) if isinstance(part, str) and part.strip())
    return full or None
