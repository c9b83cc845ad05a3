"""Hostile and broken input: each gets a clear 4xx in the envelope (never a 500) and stores nothing;
strings shaped like injections are stored and returned verbatim and rendered escaped."""

import json

import pytest
import sqlalchemy as sa

from tests.reliability.helpers import logged_in_client

AGENT = {"name": "Support agent", "system_prompt": "You confirm deliveries politely."}
JSON = {"Content-Type": "application/json"}


def stored_rows(db, org_id: str) -> dict:
    from webapp.models import Agent, Call, Task

    db.session.remove()  # a fresh transaction sees every commit (SQLite reads from a snapshot)
    return {
        model.__tablename__: db.session.scalar(
            sa.select(sa.func.count()).select_from(model).where(model.organization_id == org_id)
        )
        for model in (Agent, Task, Call)
    }


def assert_refused(response, status: int = 400, field: str | None = None) -> dict:
    body = response.get_json()
    assert response.status_code == status, (response.status_code, body)
    assert body["success"] is False and body["error"] and isinstance(body["details"], dict), body
    assert body["meta"]["request_id"]
    if field is not None:
        assert field in body["details"], body["details"]
    return body


@pytest.fixture
def agent_id(db, tenant):
    """The id of the tenant's agent (which has one task); after the test, asserts that the
    organization's rows are exactly as before it: refused input stores nothing."""
    agent = tenant.agent()
    tenant.task(agent["id"])
    before = stored_rows(db, tenant.org_id)
    yield agent["id"]
    assert stored_rows(db, tenant.org_id) == before


def raw_post(tenant, path: str, raw: bytes):
    return tenant.api.request("POST", path, data=raw, headers=JSON)


@pytest.mark.usefixtures("agent_id")
def test_oversized_bodies_are_413(app, tenant):
    limit = app.config["MAX_CONTENT_LENGTH"]
    for name in ("x" * (limit + 1), "ü" * (limit // 2 + 1)):  # 1 MB of ASCII, then of two-byte characters
        body = assert_refused(tenant.api.post("/agents", json={**AGENT, "name": name}), 413)
        assert body["details"] == {"max_bytes": limit}
    assert_refused(raw_post(tenant, "/tasks", b"[" * (limit + 10)), 413)


def test_deeply_nested_json_is_a_400_not_a_recursion_error(tenant, agent_id):
    deep = 10_000
    bodies = [
        b"[" * deep + b"]" * deep,
        b'{"a":' * deep + b"1" + b"}" * deep,
        json.dumps({**AGENT, "voice_settings": "X"}).encode().replace(b'"X"', b"[" * deep + b"]" * deep),
    ]
    for raw in bodies:
        assert_refused(raw_post(tenant, "/agents", raw))
    context = {"level": 1}
    for _ in range(50):
        context = {"inner": context}
    body = {"agent_id": agent_id, "name": "x", "to_number": "+14155550123", "context_data": context}
    assert (
        "nested deeper"
        in assert_refused(tenant.api.post("/tasks", json=body), field="context_data")["details"]["context_data"]
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/agents", {**AGENT, "name": 123}, "name"),
        ("/agents", {**AGENT, "name": ["a"]}, "name"),
        ("/agents", {**AGENT, "enabled": "maybe"}, "enabled"),
        ("/agents", {**AGENT, "voice_settings": [0.5]}, "voice_settings"),
        ("/agents", {**AGENT, "voice_settings": {"stability": "high"}}, "voice_settings.stability"),
        ("/agents", {**AGENT, "dtmf_rules": {"inputs": {"1": {"action": "self_destruct"}}}}, None),
        ("/agents", {**AGENT, "system_prompt": None}, "system_prompt"),
        ("/agents", {**AGENT, "unknown_field": 1}, "unknown_field"),
        ("/tasks", {"name": "x", "to_number": "+14155550123", "agent_id": 42}, "agent_id"),
        ("/tasks", {"name": "x", "to_number": 14155550123, "agent_id": "AGENT"}, "to_number"),
        ("/tasks", {"name": "x", "to_number": "+14155550123", "agent_id": "AGENT", "priority": "high"}, "priority"),
        ("/tasks", {"name": "x", "to_number": "+14155550123", "agent_id": "AGENT", "priority": True}, "priority"),
        ("/tasks", {"name": "x", "to_number": "+14155550123", "agent_id": "AGENT", "priority": 10**30}, "priority"),
        ("/tasks", {"name": "x", "to_number": "+14155550123", "agent_id": "AGENT", "context_data": "s"}, None),
        ("/tasks", {"name": "x", "to_number": "+14155550123", "agent_id": "AGENT", "webhook_events": "x"}, None),
        ("/tasks", {"name": "x", "to_number": "+14155550123", "agent_id": "AGENT", "scheduled_at": "soon"}, None),
        ("/tasks", {"name": "x", "to_number": "+14155550123", "agent_id": "AGENT", "scheduled_at": 1e300}, None),
    ],
)
def test_wrong_types_are_a_400_naming_the_field(tenant, agent_id, path, body, field):
    body = {key: agent_id if value == "AGENT" else value for key, value in body.items()}
    assert_refused(tenant.api.post(path, json=body), field=field)


def test_strings_past_their_limits_are_refused(tenant, agent_id):
    assert_refused(tenant.api.post("/agents", json={**AGENT, "name": "n" * 900_000}), field="name")
    assert_refused(tenant.api.post("/agents", json={**AGENT, "system_prompt": "p" * 20_001}), field="system_prompt")
    big_context = {"notes": "c" * 17_000}
    task = {"agent_id": agent_id, "name": "x", "to_number": "+14155550123", "context_data": big_context}
    assert_refused(tenant.api.post("/tasks", json=task), field="context_data")
    assert_refused(tenant.api.patch(f"/agents/{agent_id}", json={"name": " " * 50}), field="name")


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (b'{"name": "\\ud800", "system_prompt": "p"}', "name"),
        (b'{"name": "a", "system_prompt": "p", "description": "x\\udfff"}', "description"),
        (b'{"name": "a\\u0000b", "system_prompt": "p"}', "name"),
        (b'{"name": "a", "system_prompt": "p", "voice_settings": {"voice_id": "\\u0000"}}', "voice_settings.voice_id"),
        (b'{"name": "\xff\xfe", "system_prompt": "p"}', None),
        (b'{"name": "a", "system_prompt": "\xc3\x28"}', None),
        (b"\xef\xbb\xbf\xef\xbb\xbf{}", None),
        (b'{"name": "a", "system_prompt": "p",}', None),
        (b"null", None),
    ],
)
@pytest.mark.usefixtures("agent_id")
def test_invalid_unicode_and_malformed_json_are_a_400(tenant, raw, field):
    assert_refused(raw_post(tenant, "/agents", raw), field=field)


def test_unstorable_characters_inside_context_data_are_a_400(tenant, agent_id):
    for context in ('{"\\ud800": 1}', '{"k": "\\u0000"}', '{"k": ["ok", "\\udc00"]}'):
        raw = f'{{"agent_id": "{agent_id}", "name": "x", "to_number": "+14155550123", "context_data": {context}}}'
        assert_refused(raw_post(tenant, "/tasks", raw.encode()), field="context_data")


@pytest.mark.parametrize(
    "number",
    ["+1234567890", "4155550123", "+1 415 555 0123", "+1-415-555-0123", "+14155550123x9", "+000", "",
     "+99912345678", "+1415555012345678", "+44 20 7946 0958 0", "０１２３", "+1415555\u0000123"],
)  # fmt: skip
def test_invalid_phone_numbers_are_a_400_that_says_why(tenant, agent_id, number):
    body = {"agent_id": agent_id, "name": "x", "to_number": number}
    details = assert_refused(tenant.api.post("/tasks", json=body), field="to_number")["details"]
    assert len(details["to_number"]) > 10, details
    rules = {"inputs": {"0": {"action": "transfer", "to_number": number}}}
    assert_refused(tenant.api.post("/agents", json={**AGENT, "dtmf_rules": rules}))


@pytest.mark.parametrize(
    "query",
    ["limit=0", "limit=101", "limit=abc", "limit=", "limit=1.5", "offset=-1", "offset=abc", "offset=1e3",
     "offset=99999999999999999999999", "enabled=maybe", "limit=1&limit=2", "unknown=1", "status=paused"],
)  # fmt: skip
def test_bad_query_parameters_are_a_400(tenant, query):
    path = "/agents" if "enabled" in query else "/tasks"
    assert_refused(tenant.api.get(f"{path}?{query}"))
    if "enabled" not in query:
        assert_refused(tenant.api.get(f"/calls?{query}"))


def test_injection_shaped_strings_are_stored_verbatim_and_rendered_escaped(app, db, tenant):
    sql, script = "'; DROP TABLE agents;--", "<script>alert(1)</script>"
    created = tenant.agent(name=script, description=sql, system_prompt=f'" OR 1=1 -- {script}')
    fetched = tenant.api.get(f"/agents/{created['id']}").get_json()["data"]
    assert (fetched["name"], fetched["description"]) == (script, sql)
    task = tenant.task(created["id"], name=sql, context_data={sql: script})
    assert tenant.api.get(f"/tasks/{task['id']}").get_json()["data"]["context_data"] == {sql: script}
    assert tenant.api.get(f"/tasks?agent_id={sql}").get_json()["data"] == []
    assert tenant.api.get("/tasks?agent_id=' OR '1'='1").get_json()["data"] == []
    assert stored_rows(db, tenant.org_id) == {"agents": 1, "tasks": 1, "calls": 0}

    browser, _ = logged_in_client(app, tenant)
    page = browser.get("/agents").get_data(as_text=True)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and script not in page
    docs = browser.get("/docs")
    assert docs.status_code == 200 and "alert(1)" not in docs.get_data(as_text=True)


def test_garbage_to_the_provider_webhooks_is_refused_without_a_500(client):
    for path in ("/webhooks/elevenlabs", "/webhooks/twilio/status"):
        for raw in (b"[" * 10_000, b"\xff\xfe", b'{"type": "post_call_transcription", "data": null}', b""):
            response = client.post(path, data=raw, headers=JSON)
            assert 400 <= response.status_code < 500, (path, raw[:20], response.status_code)
