"""`analyze_call`: the local, deterministic call report (no LLM, no network)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime

from . import answers as yes_no
from . import dialogue
from .datetimes import find_datetimes
from .entities import DEFAULT_REGION, find_amounts, find_emails, find_phone_numbers
from .outcome import Signals, choose_outcome, is_successful
from .summary import build_summary
from .turns import Line, normalise, read_turns

_NOT_INTERESTED = re.compile(r"\bnot interested\b")
_KEYPAD_DECISIONS = {"confirm": "yes", "decline": "no"}


def analyze_call(
    turns: Sequence[object],
    *,
    status: str,
    failure_reason: str | None = None,
    end_reason: str | None = None,
    duration_seconds: float | None = None,
    events: Iterable[Mapping] = (),
    agent_prompt: str = "",
    context_data: Mapping | None = None,
    now: datetime | None = None,
    phone_region: str = DEFAULT_REGION,
) -> dict:
    """Read a call's transcript and events into the report shape:
    {summary, outcome, call_successful, extracted_data, metrics, source: "local", generated_at}.
    `turns` holds telephony `Turn`s or dicts with role, text, start_seconds, end_seconds; numbers
    said without a country code are read as numbers of `phone_region`."""
    lines = read_turns(turns)
    events = [event for event in events or () if isinstance(event, Mapping)]
    extracted = extract_data(lines, events, phone_region)
    answer = yes_no.main_answer(lines, yes_no.goal_text(agent_prompt, context_data))
    signals = _signals(lines, events, extracted, answer)
    outcome = choose_outcome(status, failure_reason, signals)
    metrics = call_metrics(lines, duration_seconds)
    summary = build_summary(
        outcome=outcome,
        name=dialogue.context_name(context_data) or extracted["contact_name"],
        extracted=extracted,
        main_answer=answer,
        metrics=metrics,
        end_reason=end_reason,
    )
    return {
        "summary": summary,
        "outcome": outcome,
        "call_successful": is_successful(status, outcome),
        "extracted_data": extracted,
        "metrics": metrics,
        "source": "local",
        "generated_at": _iso_utc(now),
    }


def extract_data(lines: list[Line], events: list[Mapping], phone_region: str = DEFAULT_REGION) -> dict:
    """Everything the report pulls out of the transcript and the keypad events."""
    dtmf = dialogue.summarise_dtmf(events)
    return {
        "emails": _unique(email for line in lines for email in find_emails(line.text)),
        "phone_numbers": _unique(number for line in lines for number in find_phone_numbers(line.text, phone_region)),
        "datetimes": _unique_records(mention for line in lines for mention in find_datetimes(line.text)),
        "amounts": _unique_records(amount for line in lines for amount in find_amounts(line.text)),
        "answers": yes_no.find_answers(lines),
        "callback_requests": dialogue.find_callback_requests(lines),
        "opt_outs": dialogue.find_opt_outs(lines, dtmf["presses"]),
        "dtmf": dtmf,
        "contact_name": dialogue.spoken_name(lines),
    }


def _signals(lines: list[Line], events: list[Mapping], extracted: dict, answer: dict | None) -> Signals:
    presses = extracted["dtmf"]["presses"]
    return Signals(
        opted_out=bool(extracted["opt_outs"]),
        callee_spoke=any(line.is_user and line.text for line in lines),
        voicemail_greeting=dialogue.only_voicemail_greeting(lines),
        transferred=dialogue.was_transferred(lines, events, presses),
        callback_requested=bool(extracted["callback_requests"]),
        decision=_keypad_decision(presses) or (answer["value"] if answer else None),
        not_interested=any(line.is_user and _NOT_INTERESTED.search(normalise(line.text)) for line in lines),
    )


def _keypad_decision(presses: list[dict]) -> str | None:
    decisions = [_KEYPAD_DECISIONS[press["action"]] for press in presses if press.get("action") in _KEYPAD_DECISIONS]
    return decisions[-1] if decisions else None


def call_metrics(lines: list[Line], duration_seconds: float | None) -> dict:
    """Duration (given, else where the last turn ends), turn count and talk time by role."""
    if duration_seconds is None:
        duration_seconds = max((line.end for line in lines), default=0.0)
    return {
        "duration_seconds": round(float(duration_seconds), 2),
        "turns": len(lines),
        "agent_talk_seconds": _talk_seconds(lines, "agent"),
        "user_talk_seconds": _talk_seconds(lines, "user"),
    }


def _talk_seconds(lines: list[Line], role: str) -> float:
    return round(sum((line.seconds for line in lines if line.role == role), 0.0), 2)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _unique_records(records: Iterable[dict]) -> list[dict]:
    """First mention of each distinct value (the wording may differ between mentions)."""
    seen: dict[tuple, dict] = {}
    for record in records:
        key = tuple(sorted((k, str(v).lower()) for k, v in record.items() if k != "text"))
        seen.setdefault(key, record)
    return list(seen.values())


def _iso_utc(now: datetime | None) -> str:
    moment = now or datetime.now(UTC)
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
