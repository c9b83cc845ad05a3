"""The request examples of the API contract (the published API documentation), sent as written, get the documented
shapes back."""

from tests.api.helpers import allow_countries, assert_error, assert_ok, assert_page

AGENT_EXAMPLE = {
    "name": "Customer Service Agent",
    "system_prompt": "You are a helpful customer service agent...",
    "description": "Handles customer inquiries",
    "starting_message": "Hello! How can I help you today?",
    "enabled": True,
    "voice_settings": {"stability": 0.5, "similarity_boost": 0.75},
}
TASK_EXAMPLE = {
    "agent_id": "uuid-here",
    "name": "Call customer",
    "to_number": "+1234567890",
    "description": "Follow up call",
    "starting_message": "Hello, this is a call from our company",
    "context_data": {"customer_name": "John Doe", "order_id": "12345"},
    "priority": 0,
    "scheduled_at": None,
    "webhook_url": "https://your-app.com/webhooks",
    "webhook_events": ["call_started", "call_completed"],
}
LIVE_CONNECTION_INFO_KEYS = {"url", "auth_method", "auth_param", "temp_auth_param", "example", "example_session",
                             "message_format", "message_types"}  # fmt: skip


def test_create_agent_example(tenant):
    created = assert_ok(tenant.api.post("/agents", json=AGENT_EXAMPLE), 201)
    for field in ("name", "system_prompt", "description", "starting_message", "enabled"):
        assert created[field] == AGENT_EXAMPLE[field]
    assert created["voice_settings"]["stability"] == 0.5 and created["voice_settings"]["similarity_boost"] == 0.75
    assert created["dtmf_rules"] == {"navigation": [], "inputs": {}}


def test_list_agents_example(tenant):
    tenant.agent(name="On")
    tenant.agent(name="Off", enabled=False)
    listed = assert_page(tenant.api.get("/agents?enabled=true&limit=10"), total=1, limit=10, offset=0, has_more=False)
    assert [agent["name"] for agent in listed] == ["On"]


def test_create_task_example_refuses_only_the_placeholder_number(tenant):
    agent = tenant.agent()
    body = {**TASK_EXAMPLE, "agent_id": agent["id"]}
    _, details = assert_error(tenant.api.post("/tasks", json=body), 400)
    assert list(details) == ["to_number"] and "wrong number of digits" in details["to_number"]

    allow_countries(tenant, "US", "CA", "GB")
    created = assert_ok(tenant.api.post("/tasks", json={**body, "to_number": "+442071234567"}), 201)
    for field, value in body.items():
        if field != "to_number":
            assert created[field] == value, field
    assert created["status"] == "pending" and created["agent"]["id"] == agent["id"]
    assert assert_ok(tenant.api.get(f"/tasks/{created['id']}"))["agent"] == {
        "id": agent["id"],
        "name": agent["name"],
        "enabled": True,
    }


def test_update_and_delete_examples(tenant):
    agent = tenant.agent()
    updated = assert_ok(tenant.api.patch(f"/agents/{agent['id']}", json={"enabled": False}))
    assert updated["enabled"] is False and updated["name"] == agent["name"]
    task = tenant.task(agent["id"])
    assert assert_ok(tenant.api.patch(f"/tasks/{task['id']}", json={"priority": 2}))["priority"] == 2
    assert_ok(tenant.api.delete(f"/tasks/{task['id']}"))
    assert_ok(tenant.api.delete(f"/agents/{agent['id']}"))


def test_live_example(finished_calls):
    api, call_id = finished_calls.tenant.api, finished_calls.completed_call_id
    live = assert_ok(api.get(f"/calls/{call_id}/live"))
    assert {"websocket_url", "call_id", "temp_token", "connection_info"} <= set(live)
    info = live["connection_info"]
    assert set(info) == LIVE_CONNECTION_INFO_KEYS
    assert (info["auth_method"], info["auth_param"], info["temp_auth_param"]) == ("query_param", "api_key",
                                                                                  "session_token")  # fmt: skip
    assert info["example"] == f"{live['websocket_url']}?api_key=YOUR_API_KEY"
    assert info["example_session"] == f"{live['websocket_url']}?session_token={live['temp_token']}"
    assert info["message_format"] == "json" and info["url"] == live["websocket_url"]


def test_error_codes_of_the_contract(client, tenant):
    assert_error(tenant.api.post("/agents", json={}), 400)
    assert_error(client.get("/api/v1/agents"), 401)
    assert_error(tenant.api.get("/agents/missing"), 404)
