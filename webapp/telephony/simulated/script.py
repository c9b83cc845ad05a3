"""Builds a simulated call's timeline: ringing, who says what and when, key presses, outcome.

Turn and event times are call time: seconds since the call was answered (see timeline.py).
"""

from __future__ import annotations

import random

from webapp.telephony.base import CallRequest, Turn

from . import phrases, scenarios
from .dialogue import Dialogue, Line, seeded_rng
from .dtmf import (
    first_match,
    input_rules,
    keys_the_callee_presses,
    label_for,
    navigation_rules,
    ordered_keys,
)
from .timeline import Outcome, Timeline

WORDS_PER_SECOND = 2.5
KEY_PRESS_SECONDS = 0.3
NO_ANSWER_RING_SECONDS = 30.0
IVR_GREETING = "Thank you for calling. Your call is important to us."
IVR_MENU = "Press 1 for billing. Press 2 for sales. Press 3 for technical support. Press 0 to speak with an operator."
IVR_OPTIONS = {
    "1": "billing",
    "2": "sales",
    "3": "technical support",
    "0": "an operator",
}
KEYPAD_PURPOSES = {
    "confirm": "to confirm",
    "decline": "to decline",
    "opt_out": "to stop receiving our calls",
    "end_call": "to end this call",
    "transfer": "to speak with a person",
}
KEY_ACKS = {
    "confirm": "Thank you, I've recorded your confirmation.",
    "decline": "Understood, I've noted that you'd rather not.",
}


def speech_seconds(text: str) -> float:
    """How long a line takes to say at about 2.5 words a second."""
    return round(max(0.6, len(text.split()) / WORDS_PER_SECOND + 0.3), 2)


def key_name(key: str) -> str:
    return {"#": "pound", "*": "star"}.get(key, key)


class Track:
    """Lays turns and key presses out one after another on the call clock."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.now = 0.0
        self.turns: list[Turn] = []
        self.events: list[dict] = []

    def pause(self, low: float = 0.3, high: float = 1.1) -> float:
        return round(self.rng.uniform(low, high), 2)

    def wait(self, seconds: float) -> None:
        self.now = round(self.now + seconds, 2)

    def say(self, role: str, text: str, pause: float | None = None) -> None:
        start = round(self.now + (self.pause() if pause is None else pause), 2)
        end = round(start + speech_seconds(text), 2)
        self.turns.append(Turn(role, text, start, end))  # type: ignore[arg-type]
        self.now = end

    def say_all(self, lines: list[Line]) -> None:
        for role, text in lines:
            self.say(role, text)

    def press(self, role: str, keys: str, **details: object) -> None:
        """Key presses: one dtmf event per key and a `[pressed ...]` turn covering them."""
        start = round(self.now + self.pause(0.5, 1.2), 2)
        source = "agent" if role == "agent" else "callee"
        for index, key in enumerate(keys):
            at = round(start + index * KEY_PRESS_SECONDS, 2)
            self.events.append(
                {
                    "type": "dtmf",
                    "digit": key,
                    "at_seconds": at,
                    "source": source,
                    **details,
                }
            )
        end = round(start + KEY_PRESS_SECONDS * len(keys), 2)
        self.turns.append(Turn(role, f"[pressed {keys}]", start, end))  # type: ignore[arg-type]
        self.now = end

    def finish(self, scenario: str, ring: float, outcome: Outcome, end: float | None = None) -> Timeline:
        end_seconds = round(self.now + 0.8 if end is None else end, 2)
        return Timeline(
            scenario,
            ring,
            True,
            end_seconds,
            tuple(self.turns),
            tuple(self.events),
            outcome,
        )


def _completed(end_reason: str) -> Outcome:
    who = "agent" if end_reason == "ended_by_agent" else "callee"
    return Outcome("completed", None, end_reason, f"call ended by {who}")


def _unanswered(scenario: str, ring: float, reason: str, termination: str) -> Timeline:
    return Timeline(scenario, ring, False, 0.0, (), (), Outcome("failed", reason, None, termination))


def _ring(rng: random.Random, low: float = 3.0, high: float = 8.0) -> float:
    return round(rng.uniform(low, high), 2)


def conversation(request: CallRequest, dialogue: Dialogue, rng: random.Random) -> Timeline:
    track = Track(rng)
    lines, end_reason = dialogue.conversation()
    track.say_all(lines)
    return track.finish(scenarios.CONVERSATION, _ring(rng), _completed(end_reason))


def no_answer(request: CallRequest, dialogue: Dialogue, rng: random.Random) -> Timeline:
    return _unanswered(scenarios.NO_ANSWER, NO_ANSWER_RING_SECONDS, "no_answer", "no answer")


def busy(request: CallRequest, dialogue: Dialogue, rng: random.Random) -> Timeline:
    return _unanswered(scenarios.BUSY, _ring(rng, 1.5, 3.0), "busy", "line busy")


def voicemail(request: CallRequest, dialogue: Dialogue, rng: random.Random) -> Timeline:
    track = Track(rng)
    track.say("user", dialogue.voicemail_greeting(), pause=0.5)
    outcome = Outcome("failed", "voicemail", None, "voicemail detected")
    return track.finish(scenarios.VOICEMAIL, _ring(rng, 12.0, 20.0), outcome, track.now + 1.5)


def dropped(request: CallRequest, dialogue: Dialogue, rng: random.Random) -> Timeline:
    """A conversation cut off halfway through the turn after the middle one."""
    track = Track(rng)
    lines, _ = dialogue.conversation()
    track.say_all(lines)
    cut = len(track.turns) // 2
    victim = track.turns[cut]
    drop_at = round((victim.start_seconds + victim.end_seconds) / 2, 2)
    track.turns = track.turns[:cut]
    outcome = Outcome("failed", "dropped", None, "line dropped")
    return track.finish(scenarios.DROPPED, _ring(rng), outcome, drop_at)


def ivr(request: CallRequest, dialogue: Dialogue, rng: random.Random) -> Timeline:
    """An IVR menu the agent gets through only with a matching navigation rule."""
    track = Track(rng)
    ring = _ring(rng, 2.0, 5.0)
    rules = navigation_rules(request.agent.dtmf_rules)
    used: set[int] = set()
    track.say("user", IVR_GREETING, pause=0.5)
    prompt = IVR_MENU
    for _attempt in range(2):
        track.say("user", prompt, pause=0.3)
        match = first_match(rules, prompt, used)
        if match is None:
            prompt = f"Sorry, I didn't get that. {IVR_MENU}"
            continue
        index, rule = match
        used.add(index)
        keys = rule["press"]
        track.press("agent", keys, action="navigate", when=rule["when"])
        if keys not in IVR_OPTIONS:
            prompt = f"Sorry, that is not a valid option. {IVR_MENU}"
            continue
        track.say("user", f"Please hold while we connect you to {IVR_OPTIONS[keys]}.")
        track.wait(track.pause(2.0, 5.0))
        track.say("user", "Hello, thanks for holding. How can I help you today?", pause=0.0)
        lines, end_reason = dialogue.conversation(after_ivr=True)
        track.say_all(lines)
        return track.finish(scenarios.IVR, ring, _completed(end_reason))
    track.say("user", "We were unable to process your request. Goodbye.", pause=1.5)
    outcome = Outcome("failed", "ivr_unnavigable", None, "could not navigate the IVR menu")
    return track.finish(scenarios.IVR, ring, outcome, track.now + 0.5)


def opt_out(request: CallRequest, dialogue: Dialogue, rng: random.Random) -> Timeline:
    """The callee asks not to be called again; the agent agrees and ends the call."""
    track = Track(rng)
    track.say_all(dialogue.opening()[:1])
    track.say("user", rng.choice(phrases.OPT_OUT_REQUESTS))
    track.say("agent", phrases.OPT_OUT_ACK)
    outcome = Outcome("completed", None, "ended_by_agent", "callee asked not to be called again")
    return track.finish(scenarios.OPT_OUT, _ring(rng), outcome)


def keypad_prompt(inputs: dict[str, dict]) -> str:
    """The agent's offer to answer with the keypad, listing each key that has a rule."""
    if not inputs:
        return "You can also answer with your keypad if that's easier."
    options = []
    for key in ordered_keys(inputs):
        rule = inputs[key]
        purpose = KEYPAD_PURPOSES.get(rule["action"])
        if purpose is None:
            purpose = f"for {label_for(key, rule).replace('_', ' ')}"
        options.append(f"press {key_name(key)} {purpose}")
    return "You can also answer with your keypad: " + ", ".join(options) + "."


def keypress(request: CallRequest, dialogue: Dialogue, rng: random.Random) -> Timeline:
    """The callee presses keys; `dtmf_rules.inputs` decide what each does."""
    track = Track(rng)
    ring = _ring(rng)
    inputs = input_rules(request.agent.dtmf_rules)
    track.say_all(dialogue.opening())
    track.say("agent", dialogue.take_answer_prefix() + keypad_prompt(inputs))
    keys = keys_the_callee_presses(inputs)
    for position, key in enumerate(keys):
        rule = inputs.get(key)
        if rule is None:
            track.press("user", key, action=None)
            more = "Please try again." if position < len(keys) - 1 else "Let's carry on."
            track.say("agent", f"Sorry, the {key_name(key)} key isn't recognised. {more}")
            continue
        action, label = rule["action"], label_for(key, rule)
        details: dict = {"action": action, "label": label}
        if action == "transfer":
            details["to_number"] = rule.get("to_number")
        track.press("user", key, **details)
        if action == "end_call":
            outcome = Outcome("completed", None, "ended_by_callee", "callee ended the call")
            return track.finish(scenarios.KEYPRESS, ring, outcome, track.now + 0.3)
        if action == "opt_out":
            track.say(
                "agent",
                "Understood. I've removed your number from our call list, and you won't be called again. Goodbye.",
            )
            outcome = Outcome("completed", None, "ended_by_agent", "callee opted out")
            return track.finish(scenarios.KEYPRESS, ring, outcome)
        if action == "transfer":
            target = rule.get("to_number") or "a colleague"
            track.say(
                "agent",
                f"Of course. I'm transferring you to {target} now, please hold.",
            )
            outcome = Outcome("completed", None, "ended_by_agent", f"transferred to {target}")
            return track.finish(scenarios.KEYPRESS, ring, outcome, track.now + 1.0)
        ack = KEY_ACKS.get(action) or f"Got it, I've noted {label.replace('_', ' ')}."
        track.say("agent", ack)
    lines, end_reason = dialogue.closing()
    track.say_all(lines)
    return track.finish(scenarios.KEYPRESS, ring, _completed(end_reason))


BUILDERS = {
    scenarios.NO_ANSWER: no_answer,
    scenarios.BUSY: busy,
    scenarios.VOICEMAIL: voicemail,
    scenarios.DROPPED: dropped,
    scenarios.IVR: ivr,
    scenarios.KEYPRESS: keypress,
    scenarios.OPT_OUT: opt_out,
    scenarios.CONVERSATION: conversation,
}


def build_timeline(request: CallRequest) -> Timeline:
    """The whole call, decided up front from the request; the same request gives the same call."""
    rng = seeded_rng(request.call_id)
    scenario = scenarios.scenario_for(request.to_number)
    return BUILDERS[scenario](request, Dialogue(request, rng), rng)
