"""The {{variable}} rules every provider and the task service share."""

from __future__ import annotations

import pytest

from webapp.telephony import dynamic_variables as dv
from webapp.telephony.base import AgentSpec, CallRequest, ProviderError
from webapp.telephony.simulated import SimulatedProvider


def test_placeholders_in_order_of_first_use_without_system_ones():
    texts = ["Hi {{ name }}, {{plan}} and {{name}} again", None, "{{system__time}} {{order_id}}{{ not a var }}"]
    assert dv.placeholders(texts) == ["name", "plan", "order_id"]


def test_missing_variables_take_task_values_then_agent_defaults():
    texts = ["Hello {{customer_name}} about {{order_id}} on {{plan}}"]
    assert dv.missing_variables(texts, {"customer_name": "Jane"}, {"plan": "Gold"}) == ["order_id"]
    assert dv.missing_variables(texts, {"customer_name": "", "order": {"id": 7}}, {"plan": "Gold"}) == []


def test_values_let_the_task_override_the_defaults_and_flatten_nested_keys():
    assert dv.values({"plan": "Silver", "order": {"id": 7}}, {"plan": "Gold", "tier": 1}) == {
        "plan": "Silver",
        "tier": 1,
        "order_id": 7,
    }


def test_render_fills_known_values_and_leaves_the_rest():
    assert dv.render("Hi {{name}} ({{vip}}), {{other}}", {"name": "Ann", "vip": True}) == "Hi Ann (true), {{other}}"


def test_a_call_uses_the_tasks_starting_message_instead_of_the_agents():
    agent = AgentSpec("a", "A", "Prompt about {{plan}}.", "Hi {{name}}", {}, {}, dynamic_variables={"plan": "x"})
    assert dv.missing_for_call(agent, {}) == ["name"]
    assert dv.missing_for_call(agent, {}, "Hello there, {{nickname}}") == ["nickname"]


def test_the_simulated_provider_refuses_a_call_missing_a_variable_as_elevenlabs_does():
    agent = AgentSpec("a", "A", "Prompt.", "Hi {{name}} about {{order_id}}", {}, {}, dynamic_variables={"name": "you"})
    provider = SimulatedProvider()
    with pytest.raises(ProviderError, match=r"^Missing required dynamic variables: order_id$"):
        provider.place_call(CallRequest("c", "+14155550123", agent, None, {}))
    placed = provider.place_call(CallRequest("c", "+14155550123", agent, None, {"order_id": "A-1"}))
    assert placed.provider_call_id.startswith("sim_")
