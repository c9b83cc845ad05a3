"""Reading `dtmf_rules`: IVR navigation matches and the actions of the callee's key presses."""

from __future__ import annotations

import re

from ... import safe_regex

ACTIONS = ("confirm", "decline", "opt_out", "end_call", "transfer", "label")
TERMINAL_ACTIONS = ("opt_out", "end_call", "transfer")
DEFAULT_LABELS = {
    "confirm": "confirmed",
    "decline": "declined",
    "opt_out": "opted_out",
    "end_call": "ended_call",
    "transfer": "transferred",
}
KEYS = "0123456789*#"
_WORD = re.compile(r"[a-z0-9*#]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def when_matches(when: str, text: str) -> bool:
    """True if a rule's `when` matches an IVR prompt.

    `/.../` is a regular expression searched case-insensitively, with RE2 (linear time). Anything else is a phrase:
    it matches when its words appear in that order in the prompt, or all appear in one
    sentence of it ("for billing press 1" matches "Press 1 for billing.").
    """
    when = when.strip()
    if len(when) > 2 and when.startswith("/") and when.endswith("/"):
        return safe_regex.search(when[1:-1], text)
    phrase = _words(when)
    if not phrase:
        return False
    if f" {' '.join(phrase)} " in f" {' '.join(_words(text))} ":
        return True
    return any(set(phrase) <= set(_words(sentence)) for sentence in re.split(r"[.;!?]", text))


def navigation_rules(dtmf_rules: dict | None) -> list[dict]:
    """The well-formed navigation rules, in the order they were written."""
    rules = (dtmf_rules or {}).get("navigation") or []
    return [
        {"when": str(rule["when"]), "press": str(rule["press"])}
        for rule in rules
        if isinstance(rule, dict) and rule.get("when") and rule.get("press") not in (None, "")
    ]


def first_match(rules: list[dict], prompt: str, used: set[int]) -> tuple[int, dict] | None:
    """The first rule not used yet whose `when` matches the prompt, with its index."""
    for index, rule in enumerate(rules):
        if index not in used and when_matches(rule["when"], prompt):
            return index, rule
    return None


def input_rules(dtmf_rules: dict | None) -> dict[str, dict]:
    """The callee key rules with a known action, keyed by digit."""
    inputs = (dtmf_rules or {}).get("inputs") or {}
    return {
        str(digit): dict(rule)
        for digit, rule in inputs.items()
        if isinstance(rule, dict) and rule.get("action") in ACTIONS
    }


def label_for(digit: str, rule: dict) -> str:
    """The label recorded for a key press: the rule's own, else one named after its action."""
    return str(rule.get("label") or DEFAULT_LABELS.get(rule["action"]) or f"key_{digit}")


def ordered_keys(inputs: dict[str, dict]) -> list[str]:
    """Rule keys in keypad order (0-9, *, #), any odd keys last."""
    return sorted(inputs, key=lambda key: (KEYS.find(key) if key in KEYS else len(KEYS), key))


def keys_the_callee_presses(inputs: dict[str, dict]) -> list[str]:
    """The simulated callee's key presses, in order.

    First one key that has no rule (callees fumble), then every non-ending key in key order,
    then the first ending key (opt_out, end_call, transfer) in key order, if any.
    """
    unknown = next((key for key in "5#*" + KEYS if key not in inputs), None)
    ordered = ordered_keys(inputs)
    ongoing = [key for key in ordered if inputs[key]["action"] not in TERMINAL_ACTIONS]
    ending = [key for key in ordered if inputs[key]["action"] in TERMINAL_ACTIONS][:1]
    return ([unknown] if unknown else []) + ongoing + ending
