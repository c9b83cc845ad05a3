"""Tenant isolation and credential kinds, for every operation the OpenAPI document lists: another
organization's ids are a 404 everywhere (and change nothing), session endpoints refuse API keys,
API endpoints refuse a bare session."""

import re
import uuid

import pytest

from tests.reliability.helpers import logged_in_client
from tests.support import ScopedClient, Tenant, free_port, wait_until

HIJACK_BODIES = {"PATCH": {"name": "Hijacked"}, "PUT": {"allowed_countries": ["GB"]}}
HIJACK_BODIES_BY_PATH = {
    ("PATCH", "/users/{user_id}"): {"role": "viewer"},
    ("POST", "/campaigns/{campaign_id}/tasks"): {"tasks": [{"to_number": "+14155550123"}]},
}


def operations(app) -> list[tuple[str, str, str]]:
    """(method, path template, auth kind) of every documented operation."""
    document = ScopedClient(app).get("/api/v1/openapi.json").get_json()
    found = []
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            auth = "session" if {"session": []} in operation["security"] else "api_key"
            found.append((method.upper(), path.removeprefix("/api/v1"), auth if operation["security"] else "none"))
    return found


@pytest.fixture(scope="module")
def victim(app, worker):
    """An organization with one of everything: agent, pending task, finished call (recording,
    webhook delivery), API key."""
    from webapp.services import keys, orgs

    tenant = Tenant(app, ScopedClient(app))
    agent = tenant.agent()
    done = tenant.task(agent["id"], webhook_url=f"http://127.0.0.1:{free_port()}/x", webhook_events=["call_completed"])
    call_id = tenant.api.post(f"/tasks/{done['id']}/execute").get_json()["data"]["call_id"]
    wait_until(lambda: tenant.api.get(f"/calls/{call_id}/recording").status_code == 200, message="victim's call")
    assert tenant.api.get(f"/calls/{call_id}/webhook-deliveries").get_json()["data"]
    tenant.ids = {
        "agent_id": agent["id"],
        "task_id": tenant.task(agent["id"])["id"],
        "call_id": call_id,
        "key_id": keys.create_key(tenant.org_id, "victim's")[0].id,
        "org_id": tenant.org_id,
        "user_id": tenant.owner.id,
        "invite_id": orgs.invite(tenant.org_id, "invitee@example.com", "member", tenant.owner.id)[0].id,
        "campaign_id": tenant.api.post("/campaigns", json={"name": "Victim's", "agent_id": agent["id"]}).get_json()[
            "data"
        ]["id"],
    }
    return tenant


def test_every_operation_answers_404_for_another_organizations_ids(app, victim, tenant):
    session_client, csrf = logged_in_client(app, tenant)
    checked = []
    for method, template, auth in operations(app):
        names = re.findall(r"{(\w+)}", template)
        if not names:
            continue
        # ids the victim has no row for (a new resource's) are random: a 404 for everyone
        path = template.format(**{name: victim.ids.get(name, str(uuid.uuid4())) for name in names})
        body = HIJACK_BODIES_BY_PATH.get((method, template), HIJACK_BODIES.get(method))
        if auth == "session":
            response = session_client.open(f"/api/v1{path}", method=method, json=body, headers=csrf)
        else:
            response = tenant.api.request(method, path, json=body)
        assert response.status_code == 404, (method, path, response.status_code, response.get_data(as_text=True))
        assert response.get_json()["success"] is False
        checked.append(f"{method} {template}")
    assert len(checked) >= 25, checked

    assert victim.api.get(f"/agents/{victim.ids['agent_id']}").get_json()["data"]["name"] != "Hijacked"
    task = victim.api.get(f"/tasks/{victim.ids['task_id']}").get_json()["data"]
    assert task["status"] == "pending" and task["name"] != "Hijacked"
    assert victim.api.get(f"/calls/{victim.ids['call_id']}").get_json()["data"]["status"] == "completed"
    victim_client, _ = logged_in_client(app, victim)
    victim_keys = victim_client.get("/api/v1/api-keys").get_json()["data"]
    assert all(key["revoked_at"] is None for key in victim_keys)
    assert victim.api.get("/agents").status_code == 200  # the victim's own key still works
    assert victim_client.get("/api/v1/organizations/current").get_json()["data"]["name"] != "Hijacked"


def test_lists_and_filters_never_show_another_organizations_rows(victim, tenant):
    for path in ("/agents", "/tasks", "/calls", f"/tasks?agent_id={victim.ids['agent_id']}",
                 f"/calls?task_id={victim.ids['task_id']}", f"/calls?agent_id={victim.ids['agent_id']}"):  # fmt: skip
        body = tenant.api.get(path).get_json()
        assert body["data"] == [] and body["meta"]["pagination"]["total"] == 0, (path, body)
    refused = tenant.api.post(
        "/tasks", json={"agent_id": victim.ids["agent_id"], "name": "x", "to_number": "+14155550123"}
    )
    assert refused.status_code == 404, refused.get_json()  # another org's agent is no agent of ours
    assert "agent" in refused.get_json()["error"].lower()
    assert tenant.api.get("/tasks").get_json()["meta"]["pagination"]["total"] == 0


def test_session_endpoints_refuse_api_keys_and_api_endpoints_refuse_a_bare_session(app, tenant):
    session_client, csrf = logged_in_client(app, tenant)
    ids = {"agent_id": "x", "task_id": "x", "call_id": "x", "key_id": "x", "org_id": tenant.org_id,
           "user_id": "x", "invite_id": "x", "campaign_id": "x"}  # fmt: skip
    kinds = set()
    for method, template, auth in operations(app):
        path = "/api/v1" + template.format(**{n: ids.get(n, "x") for n in re.findall(r"{(\w+)}", template)})
        if auth == "session":
            key = {"Authorization": f"Bearer {tenant.key}"}
            response = ScopedClient(app).open(path, method=method, headers=key)
            assert response.status_code == 401, (method, path, response.status_code)
            response = session_client.open(path, method=method, headers={**csrf, **key})  # even when logged in
        elif auth == "api_key":
            response = session_client.open(path, method=method, headers=csrf)
        else:
            continue
        kinds.add(auth)
        assert response.status_code == 401, (method, path, response.status_code, response.get_json())
        body = response.get_json()
        assert body["success"] is False and body["error"]
    assert kinds == {"session", "api_key"}
