"""The outcome label of a call and whether it counts as a success."""

from __future__ import annotations

import re
from dataclasses import dataclass

CONFIRMED, DECLINED, COMPLETED = "confirmed", "declined", "completed"
POSITIVE_OUTCOMES = frozenset({CONFIRMED, COMPLETED, "callback_requested", "transferred"})
ENDED_STATUSES = frozenset({"completed", "failed"})


@dataclass(frozen=True)
class Signals:
    """What the transcript and events showed, reduced to what the outcome rules need."""

    opted_out: bool = False
    callee_spoke: bool = False
    voicemail_greeting: bool = False
    transferred: bool = False
    callback_requested: bool = False
    decision: str | None = None  # "yes" / "no" from the main answer or a keypad action
    not_interested: bool = False


def choose_outcome(status: str, failure_reason: str | None, signals: Signals) -> str:
    """One label for the call; the first rule that applies wins:

    1. ``opted_out``: the callee asked (by voice or keypad) not to be called again. Checked
       first because it binds whatever else happened, even on a call that failed afterwards.
    2. A failed call: its ``failure_reason`` (``no_answer``, ``busy``, ``voicemail``,
       ``dropped``, ``ivr_unnavigable``, ``cancelled``, ``provider_error``, ``timeout`` ...),
       or ``failed`` when none was given.
    3. ``in_progress``: the call has not ended yet (status ``initiated`` or ``in_progress``).
    4. ``voicemail``: a completed call where only a recorded greeting answered.
    5. ``no_conversation``: a completed call in which the callee never spoke.
    6. ``transferred``: the call was handed to a person (keypad action, event or agent words).
    7. ``callback_requested``: the callee asked, or accepted an offer, to be called back.
    8. ``confirmed`` / ``declined``: a keypad confirm/decline action, else the callee's yes/no
       to the question that best matches the agent's goal; ``declined`` also when the callee
       said they were not interested and gave no firm answer.
    9. ``completed``: a conversation happened and none of the above applies.
    """
    if signals.opted_out:
        return "opted_out"
    if status == "failed":
        return _slug(failure_reason) or "failed"
    if status not in ENDED_STATUSES:
        return "in_progress"
    return _conversation_outcome(signals)


def _conversation_outcome(signals: Signals) -> str:
    if signals.voicemail_greeting:
        return "voicemail"
    if not signals.callee_spoke:
        return "no_conversation"
    if signals.transferred:
        return "transferred"
    if signals.callback_requested:
        return "callback_requested"
    if signals.decision == "yes":
        return CONFIRMED
    if signals.decision == "no" or signals.not_interested:
        return DECLINED
    return COMPLETED


def _slug(reason: str | None) -> str:
    return re.sub(r"[^a-z0-9]+", "_", (reason or "").strip().lower()).strip("_")


def is_successful(status: str, outcome: str) -> bool:
    """A completed call whose outcome is positive (confirmed, completed, callback, transfer)."""
    return status == "completed" and outcome in POSITIVE_OUTCOMES
