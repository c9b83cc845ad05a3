"""The agent's `dtmf_rules` on a bridged call: what a callee's key press does, and which keys
the agent presses when a phone menu says a `navigation` rule's phrase."""

from __future__ import annotations

from ..simulated.dtmf import first_match, input_rules, label_for, navigation_rules

TELL_AGENT = {
    "confirm": "The callee confirmed with the keypad.",
    "decline": "The callee declined with the keypad.",
    "opt_out": "The callee pressed the key to opt out: acknowledge it politely, then end the call.",
    "label": "The callee answered with the keypad.",
}


class Keypad:
    def __init__(self, dtmf_rules: dict | None):
        self.inputs = input_rules(dtmf_rules)
        self.navigation = navigation_rules(dtmf_rules)
        self.used_navigation: set[int] = set()

    def callee_pressed(self, digit: str) -> dict:
        """The dtmf event for a press: {digit, by, action?, label?, to_number?}."""
        press: dict = {"digit": digit, "by": "callee"}
        rule = self.inputs.get(digit)
        if rule is not None:
            press["action"] = rule["action"]
            press["label"] = label_for(digit, rule)
            if rule["action"] == "transfer" and rule.get("to_number"):
                press["to_number"] = rule["to_number"]
        return press

    def describe(self, press: dict) -> str:
        """What the agent is told about a press."""
        action = press.get("action")
        if action is None:
            return f"The callee pressed {press['digit']} on the keypad; that key has no meaning here."
        text = TELL_AGENT.get(action, "The callee pressed a key.")
        return f"{text} (key {press['digit']}, recorded as {press.get('label')})"

    def transfer_number(self) -> str | None:
        """The destination of the first transfer rule: the only number the agent may transfer to."""
        for digit in sorted(self.inputs):
            rule = self.inputs[digit]
            if rule["action"] == "transfer" and rule.get("to_number"):
                return rule["to_number"]
        return None

    def navigation_keys(self, heard: str) -> str | None:
        """Keys to press for what the other side just said, each navigation rule used once."""
        match = first_match(self.navigation, heard, self.used_navigation)
        if match is None:
            return None
        index, rule = match
        self.used_navigation.add(index)
        return rule["press"]
