"""IVR navigation (+15005550005) and callee key presses (+15005550006) follow dtmf_rules."""

import pytest

from webapp.telephony.base import AgentSpec, CallRef, CallRequest
from webapp.telephony.simulated import SimulatedProvider
from webapp.telephony.simulated.dtmf import keys_the_callee_presses, when_matches

IVR_NUMBER = "+15005550005"
KEYS_NUMBER = "+15005550006"


class Clock:
    def __init__(self, now: float = 1_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def final(to_number: str, dtmf_rules: dict, call_id: str = "call-1"):
    agent = AgentSpec("agent-1", "Ava", "You confirm orders.", None, {}, dtmf_rules)
    request = CallRequest(call_id, to_number, agent, None, {"customer_name": "Jane Roe"})
    clock = Clock()
    provider = SimulatedProvider(clock=clock)
    placed = provider.place_call(request)
    clock.now += 10_000
    return provider.poll(CallRef(call_id, placed.provider_call_id, placed.provider_data))


def dtmf_events(snapshot, source):
    return [e for e in snapshot.events if e["type"] == "dtmf" and e["source"] == source]


@pytest.mark.parametrize(
    ("when", "text", "matches"),
    [
        ("press 1 for billing", "Press 1 for billing. Press 2 for sales.", True),
        ("PRESS 1 FOR BILLING", "press 1 for billing.", True),
        ("for billing press 1", "Press 1 for billing. Press 2 for sales.", True),
        ("for sales press 1", "Press 1 for billing. Press 2 for sales.", False),
        ("press 4 for claims", "Press 1 for billing. Press 2 for sales.", False),
        ("/press (\\d) for sales/", "Press 1 for billing. Press 2 for Sales.", True),
        ("/^welcome/", "Press 1 for billing.", False),
        ("/[unclosed/", "Press 1 for billing.", False),
    ],
)
def test_when_matches_phrases_and_regexes(when, text, matches):
    assert when_matches(when, text) is matches


def test_ivr_with_a_matching_phrase_reaches_a_person_and_completes():
    rules = {"navigation": [{"when": "press 2 for sales", "press": "2"}]}
    snapshot = final(IVR_NUMBER, rules)
    assert snapshot.status == "completed"
    assert snapshot.end_reason in ("ended_by_agent", "ended_by_callee")
    presses = dtmf_events(snapshot, "agent")
    assert [(e["digit"], e["action"]) for e in presses] == [("2", "navigate")]
    texts = [turn.text for turn in snapshot.turns]
    assert "Press 1 for billing" in texts[1]
    assert "[pressed 2]" in texts
    assert any("connect you to sales" in text for text in texts)
    after_menu = texts[texts.index("[pressed 2]") + 1 :]
    assert any(t.startswith("Hi Jane, this is Ava") for t in after_menu)
    agent_turns = [turn for turn in snapshot.turns if turn.role == "agent"]
    assert len(agent_turns) > 3


def test_ivr_regex_rule_works():
    rules = {"navigation": [{"when": "/technical\\s+support/", "press": "3"}]}
    snapshot = final(IVR_NUMBER, rules)
    assert snapshot.status == "completed"
    assert [e["digit"] for e in dtmf_events(snapshot, "agent")] == ["3"]


@pytest.mark.parametrize(
    "rules",
    [
        {},
        {"navigation": [{"when": "press 7 for claims", "press": "7"}]},
        {"inputs": {}},
    ],
)
def test_ivr_without_a_matching_rule_is_unnavigable(rules):
    snapshot = final(IVR_NUMBER, rules)
    assert (snapshot.status, snapshot.failure_reason) == ("failed", "ivr_unnavigable")
    assert dtmf_events(snapshot, "agent") == []
    assert all(turn.role == "user" for turn in snapshot.turns)
    assert sum("Press 1 for billing" in turn.text for turn in snapshot.turns) == 2


def test_ivr_invalid_key_then_a_valid_rule():
    rules = {
        "navigation": [
            {"when": "billing", "press": "8"},
            {"when": "operator", "press": "0"},
        ]
    }
    snapshot = final(IVR_NUMBER, rules)
    assert snapshot.status == "completed"
    assert [e["digit"] for e in dtmf_events(snapshot, "agent")] == ["8", "0"]
    assert any("not a valid option" in turn.text for turn in snapshot.turns)


def test_ivr_only_invalid_keys_is_unnavigable():
    snapshot = final(IVR_NUMBER, {"navigation": [{"when": "billing", "press": "8"}]})
    assert snapshot.failure_reason == "ivr_unnavigable"


def callee_presses(rules: dict):
    snapshot = final(KEYS_NUMBER, {"inputs": rules})
    return snapshot, {e["digit"]: e for e in dtmf_events(snapshot, "callee")}


def test_keypad_options_are_offered_by_the_agent():
    snapshot, _ = callee_presses({"1": {"action": "confirm"}, "9": {"action": "opt_out"}})
    offer = next(turn.text for turn in snapshot.turns if "keypad" in turn.text)
    assert "press 1 to confirm" in offer
    assert "press 9 to stop receiving our calls" in offer


@pytest.mark.parametrize(
    ("action", "label", "ack"),
    [
        ("confirm", "confirmed", "recorded your confirmation"),
        ("decline", "declined", "you'd rather not"),
        ("label", "key_4", "noted key 4"),
    ],
)
def test_ongoing_actions_record_a_label_and_the_call_continues(action, label, ack):
    snapshot, presses = callee_presses({"4": {"action": action}})
    assert snapshot.status == "completed"
    assert presses["4"]["action"] == action
    assert presses["4"]["label"] == label
    texts = [turn.text for turn in snapshot.turns]
    answer = texts[texts.index("[pressed 4]") + 1]
    assert ack in answer
    assert "anything else" in " ".join(texts[texts.index("[pressed 4]") + 2 :])


def test_a_rule_label_is_recorded():
    _, presses = callee_presses({"1": {"action": "confirm", "label": "order_ok"}})
    assert presses["1"]["label"] == "order_ok"


def test_opt_out_is_acknowledged_and_ends_the_call():
    snapshot, presses = callee_presses({"9": {"action": "opt_out"}})
    assert (snapshot.status, snapshot.end_reason) == ("completed", "ended_by_agent")
    assert presses["9"]["action"] == "opt_out"
    assert snapshot.turns[-1].role == "agent"
    assert "won't be called again" in snapshot.turns[-1].text
    assert snapshot.turns[-2].text == "[pressed 9]"


def test_end_call_key_ends_the_call_by_the_callee():
    snapshot, presses = callee_presses({"3": {"action": "end_call"}})
    assert (snapshot.status, snapshot.end_reason) == ("completed", "ended_by_callee")
    assert snapshot.turns[-1].text == "[pressed 3]"
    assert snapshot.duration_seconds > presses["3"]["at_seconds"]


def test_transfer_names_the_number_and_completes():
    snapshot, presses = callee_presses({"0": {"action": "transfer", "to_number": "+14155550100"}})
    assert (snapshot.status, snapshot.end_reason) == ("completed", "ended_by_agent")
    assert presses["0"]["to_number"] == "+14155550100"
    assert "transferring you to +14155550100" in snapshot.turns[-1].text
    assert snapshot.termination_reason == "transferred to +14155550100"


def test_only_one_ending_key_is_pressed_after_the_ongoing_ones():
    rules = {
        "9": {"action": "opt_out"},
        "0": {"action": "transfer", "to_number": "+14155550100"},
        "1": {"action": "confirm"},
    }
    assert keys_the_callee_presses(rules) == ["5", "1", "0"]
    _snapshot, presses = callee_presses(rules)
    assert set(presses) == {"5", "1", "0"}


def test_a_key_without_a_rule_is_not_recognised():
    snapshot, presses = callee_presses({})
    assert presses["5"]["action"] is None
    texts = [turn.text for turn in snapshot.turns]
    assert "isn't recognised" in texts[texts.index("[pressed 5]") + 1]
    assert snapshot.status == "completed"


def test_key_events_appear_only_once_pressed():
    agent = AgentSpec("a", "Ava", "p", None, {}, {"inputs": {"1": {"action": "confirm"}}})
    clock = Clock()
    provider = SimulatedProvider(clock=clock)
    placed = provider.place_call(CallRequest("c", KEYS_NUMBER, agent, None, {}))
    ref = CallRef("c", placed.provider_call_id, placed.provider_data)
    press = next(e for e in placed.provider_data["events"] if e["digit"] == "1")
    answered_at = clock.now + placed.provider_data["ring_seconds"]
    clock.now = answered_at + press["at_seconds"] - 0.01
    assert all(e["digit"] != "1" for e in provider.poll(ref).events)
    clock.now = answered_at + press["at_seconds"]
    assert any(e["digit"] == "1" for e in provider.poll(ref).events)
