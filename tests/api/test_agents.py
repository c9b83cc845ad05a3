"""/api/v1/agents: list filters and pagination, create validation, partial update, guarded delete."""

import pytest

from tests.api.helpers import assert_error, assert_ok, assert_page

VALID_BODY = {"name": "Reminder agent", "system_prompt": "You remind people of appointments."}


def _create(tenant, **fields):
    return tenant.api.post("/agents", json={**VALID_BODY, **fields})


def test_list_filters_by_enabled_and_pages_with_meta(tenant):
    enabled = [tenant.agent(name=f"on {n}") for n in range(3)]
    disabled = tenant.agent(name="off", enabled=False)

    everyone = assert_page(tenant.api.get("/agents"), total=4, limit=50, offset=0, has_more=False)
    assert {a["id"] for a in everyone} == {a["id"] for a in enabled} | {disabled["id"]}
    only_on = assert_page(tenant.api.get("/agents?enabled=true"), total=3, limit=50, offset=0, has_more=False)
    assert all(a["enabled"] for a in only_on)
    only_off = assert_page(tenant.api.get("/agents?enabled=false"), total=1, limit=50, offset=0, has_more=False)
    assert [a["id"] for a in only_off] == [disabled["id"]]

    first = assert_page(tenant.api.get("/agents?limit=2"), total=4, limit=2, offset=0, has_more=True)
    second = assert_page(tenant.api.get("/agents?limit=2&offset=2"), total=4, limit=2, offset=2, has_more=False)
    assert len(first) == 2 and len(second) == 2
    assert {a["id"] for a in first}.isdisjoint({a["id"] for a in second})
    past_end = assert_page(tenant.api.get("/agents?offset=10"), total=4, limit=50, offset=10, has_more=False)
    assert past_end == []


def test_list_rejects_a_non_boolean_enabled_filter(tenant):
    _, details = assert_error(tenant.api.get("/agents?enabled=maybe"), 400)
    assert "enabled" in details


def test_get_returns_the_agent_and_404s_for_unknown_ids(tenant):
    agent = tenant.agent(description="Says hello")
    data = assert_ok(tenant.api.get(f"/agents/{agent['id']}"))
    assert data == agent
    error, _ = assert_error(tenant.api.get("/agents/00000000-0000-0000-0000-000000000000"), 404)
    assert error == "Agent not found"


def test_create_stores_every_documented_field(tenant):
    body = {
        **VALID_BODY,
        "description": "Handles reminders",
        "starting_message": "Hello!",
        "enabled": False,
        "voice_settings": {"stability": 0, "similarity_boost": 1, "style": 0.3, "speed": 0.7,
                           "use_speaker_boost": True, "voice_id": "v1", "model_id": "m1"},
        "dtmf_rules": {"navigation": [{"when": "/press (\\d) for sales/", "press": "2"}],
                       "inputs": {"9": {"action": "opt_out"}, "#": {"action": "end_call"}}},
    }  # fmt: skip
    data = assert_ok(tenant.api.post("/agents", json=body), 201)
    for field, value in body.items():
        if field == "dtmf_rules":
            assert data[field]["navigation"] == value["navigation"]
            assert data[field]["inputs"]["9"]["action"] == "opt_out"
        elif field == "voice_settings":
            assert {k: data[field][k] for k in value} == value
        else:
            assert data[field] == value
    assert set(data) >= {"id", "created_at", "updated_at", "language", "sync_status"}


@pytest.mark.parametrize("missing", ["name", "system_prompt"])
def test_create_requires_name_and_system_prompt(tenant, missing):
    body = {k: v for k, v in VALID_BODY.items() if k != missing}
    error, details = assert_error(tenant.api.post("/agents", json=body), 400)
    assert error == "Validation failed"
    assert details == {missing: "is required"}


@pytest.mark.parametrize("field", ["name", "system_prompt"])
@pytest.mark.parametrize("blank", ["", "   "])
def test_create_refuses_blank_name_and_system_prompt(tenant, field, blank):
    _, details = assert_error(_create(tenant, **{field: blank}), 400)
    assert list(details) == [field]


@pytest.mark.parametrize(("setting", "bad", "good"), [
    ("stability", 1.01, 1.0), ("stability", -0.1, 0.0),
    ("similarity_boost", 2, 0.5), ("style", -1, 1),
    ("speed", 0.69, 0.7), ("speed", 1.21, 1.2),
])  # fmt: skip
def test_voice_settings_ranges(tenant, setting, bad, good):
    _, details = assert_error(_create(tenant, voice_settings={setting: bad}), 400)
    assert list(details) == [f"voice_settings.{setting}"]
    created = assert_ok(_create(tenant, voice_settings={setting: good}), 201)
    assert created["voice_settings"][setting] == good


def test_voice_settings_refuse_unknown_keys(tenant):
    _, details = assert_error(_create(tenant, voice_settings={"pitch": 3}), 400)
    assert details == {"voice_settings.pitch": "is not a known field"}


@pytest.mark.parametrize("rules", [
    {"navigation": [{"when": "press 1 for billing", "press": "1"}]},
    {"navigation": [{"when": "/press (1|one)/", "press": "1w2"}]},
    {"inputs": {"1": {"action": "confirm", "label": "confirmed"}, "2": {"action": "decline"},
                "9": {"action": "opt_out"}, "*": {"action": "end_call"},
                "0": {"action": "transfer", "to_number": "+442071234567"},
                "#": {"action": "label", "label": "callback"}}},
])  # fmt: skip
def test_valid_dtmf_rules_are_accepted(tenant, rules):
    created = assert_ok(_create(tenant, dtmf_rules=rules), 201)
    for key, rule in rules.get("inputs", {}).items():
        assert created["dtmf_rules"]["inputs"][key]["action"] == rule["action"]
    assert created["dtmf_rules"]["navigation"] == rules.get("navigation", [])


@pytest.mark.parametrize(("rules", "bad_field", "reason"), [
    ({"navigation": [{"press": "1"}]}, "dtmf_rules.navigation.0.when", "is required"),
    ({"navigation": [{"when": "billing"}]}, "dtmf_rules.navigation.0.press", "is required"),
    ({"navigation": [{"when": "billing", "press": "1a"}]}, "dtmf_rules.navigation.0.press", "pattern"),
    ({"navigation": [{"when": "/[unclosed/", "press": "1"}]}, "dtmf_rules.navigation.0.when", "regular expression"),
    ({"inputs": {"A": {"action": "confirm"}}}, "dtmf_rules.inputs", "0-9, * or #"),
    ({"inputs": {"12": {"action": "confirm"}}}, "dtmf_rules.inputs", "0-9, * or #"),
    ({"inputs": {"1": {"action": "launch_rockets"}}}, "dtmf_rules.inputs.1.action", "confirm"),
    ({"inputs": {"0": {"action": "transfer"}}}, "dtmf_rules.inputs.0", "to_number"),
    ({"inputs": {"0": {"action": "transfer", "to_number": "+1234567890"}}}, "dtmf_rules.inputs.0.to_number", "digits"),
    ({"inputs": {"5": {"action": "label"}}}, "dtmf_rules.inputs.5", "needs label"),
    ({"macros": []}, "dtmf_rules.macros", "is not a known field"),
])  # fmt: skip
def test_invalid_dtmf_rules_are_refused_naming_the_field(tenant, rules, bad_field, reason):
    _, details = assert_error(_create(tenant, dtmf_rules=rules), 400)
    assert bad_field in details, details
    assert reason in details[bad_field]


def test_unknown_fields_are_named_in_the_error(tenant):
    error, details = assert_error(_create(tenant, prompt="old name", voice="x"), 400)
    assert error == "Unknown field(s): prompt, voice"
    assert details == {"prompt": "is not a known field", "voice": "is not a known field"}


def test_partial_update_changes_only_the_given_fields(tenant):
    agent = tenant.agent(description="Before", voice_settings={"stability": 0.4})
    updated = assert_ok(tenant.api.patch(f"/agents/{agent['id']}", json={"description": "After", "enabled": False}))
    assert updated["description"] == "After" and updated["enabled"] is False
    assert updated["name"] == agent["name"] and updated["system_prompt"] == agent["system_prompt"]
    assert updated["voice_settings"] == agent["voice_settings"]
    assert assert_ok(tenant.api.get(f"/agents/{agent['id']}")) == updated
    assert assert_ok(tenant.api.patch(f"/agents/{agent['id']}", json={}))["description"] == "After"


@pytest.mark.parametrize(("body", "field"), [
    ({"name": ""}, "name"), ({"name": None}, "name"), ({"system_prompt": None}, "system_prompt"),
    ({"enabled": None}, "enabled"), ({"voice_settings": {"speed": 2}}, "voice_settings.speed"),
    ({"id": "new-id"}, "id"), ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
])  # fmt: skip
def test_update_validates_like_create(tenant, body, field):
    agent = tenant.agent()
    _, details = assert_error(tenant.api.patch(f"/agents/{agent['id']}", json=body), 400)
    assert field in details
    assert assert_ok(tenant.api.get(f"/agents/{agent['id']}")) == agent


def test_null_settings_reset_to_the_shape_create_gives(tenant):
    defaults = tenant.agent()
    agent = tenant.agent(voice_settings={"speed": 1.1}, dtmf_rules={"inputs": {"9": {"action": "opt_out"}}})
    reset = assert_ok(tenant.api.patch(f"/agents/{agent['id']}", json={"voice_settings": None, "dtmf_rules": None}))
    assert reset["voice_settings"] == defaults["voice_settings"]
    assert reset["dtmf_rules"] == defaults["dtmf_rules"] == {"navigation": [], "inputs": {}}


def test_update_of_an_unknown_agent_is_404(tenant):
    assert_error(tenant.api.patch("/agents/nope", json={"name": "x"}), 404)


def test_delete_is_refused_while_the_agent_has_a_pending_task(tenant):
    agent = tenant.agent()
    task = tenant.task(agent["id"])
    error, details = assert_error(tenant.api.delete(f"/agents/{agent['id']}"), 409)
    assert "pending or in-progress task" in error
    assert details == {"open_tasks": 1}
    assert_ok(tenant.api.get(f"/agents/{agent['id']}"))

    assert_ok(tenant.api.delete(f"/tasks/{task['id']}"))
    assert assert_ok(tenant.api.delete(f"/agents/{agent['id']}")) == {"id": agent["id"], "deleted": True}
    assert_error(tenant.api.get(f"/agents/{agent['id']}"), 404)
    assert_error(tenant.api.delete(f"/agents/{agent['id']}"), 404)
    assert_page(tenant.api.get("/agents"), total=0, limit=50, offset=0, has_more=False)


def test_a_deleted_agent_cannot_get_new_tasks(tenant):
    agent = tenant.agent()
    assert_ok(tenant.api.delete(f"/agents/{agent['id']}"))
    body = {"agent_id": agent["id"], "name": "Late", "to_number": "+14155550123"}
    _, details = assert_error(tenant.api.post("/tasks", json=body), 404)
    assert "agent_id" in details
