"""Another organization's key sees nothing: every resource id endpoint is a 404, nothing changes,
and list filters with foreign ids come back empty."""

import pytest

from tests.api.helpers import assert_error, assert_ok, assert_page

RESOURCE_ENDPOINTS = [
    ("GET", "/agents/{agent}", None),
    ("PATCH", "/agents/{agent}", {"name": "Hijacked"}),
    ("DELETE", "/agents/{agent}", None),
    ("GET", "/tasks/{task}", None),
    ("PATCH", "/tasks/{task}", {"name": "Hijacked"}),
    ("DELETE", "/tasks/{task}", None),
    ("POST", "/tasks/{task}/execute", None),
    ("POST", "/tasks/{task}/reset", None),
    ("GET", "/calls/{call}", None),
    ("GET", "/calls/{call}/transcript", None),
    ("POST", "/calls/{call}/transcript", None),
    ("GET", "/calls/{call}/report", None),
    ("GET", "/calls/{call}/recording", None),
    ("GET", "/calls/{call}/recording/stream", None),
    ("GET", "/calls/{call}/live", None),
    ("POST", "/calls/{call}/end", None),
    ("POST", "/calls/{call}/cancel", None),
    ("GET", "/calls/{call}/webhook-deliveries", None),
]


@pytest.fixture
def owned(finished_calls):
    """Ids that belong to the finished calls' organization (a failed task, so delete/reset could act)."""
    return {
        "agent": finished_calls.agent_ids[1],
        "task": finished_calls.failed_task_id,
        "call": finished_calls.completed_call_id,
    }


@pytest.mark.parametrize(("method", "path", "body"), RESOURCE_ENDPOINTS)
def test_another_organizations_key_gets_404(finished_calls, owned, other_tenant, method, path, body):
    owner = finished_calls.tenant.api
    before = {kind: assert_ok(owner.get(f"/{kind}s/{owned[kind]}")) for kind in owned}

    error, _ = assert_error(other_tenant.api.request(method, path.format(**owned), json=body), 404)
    resource = path.split("/")[1]
    assert error.startswith({"agents": "Agent", "tasks": "Task", "calls": "Call"}[resource])

    after = {kind: assert_ok(owner.get(f"/{kind}s/{owned[kind]}")) for kind in owned}
    assert after == before


@pytest.mark.parametrize("path", ["/tasks?agent_id={agent}", "/calls?task_id={task}", "/calls?agent_id={agent}"])
def test_list_filters_with_foreign_ids_are_empty(owned, other_tenant, path):
    assert assert_page(other_tenant.api.get(path.format(**owned)), total=0, limit=50, offset=0, has_more=False) == []


def test_lists_show_only_the_callers_organization(finished_calls, other_tenant):
    other_tenant.agent()
    for path in ("/agents", "/tasks", "/calls"):
        theirs = {item["id"] for item in assert_ok(other_tenant.api.get(path), paginated=True)}
        mine = {item["id"] for item in assert_ok(finished_calls.tenant.api.get(path), paginated=True)}
        assert theirs.isdisjoint(mine)


def test_a_task_cannot_use_another_organizations_agent(owned, other_tenant):
    body = {"agent_id": owned["agent"], "name": "Borrowed agent", "to_number": "+14155550123"}
    _, details = assert_error(other_tenant.api.post("/tasks", json=body), 404)
    assert details == {"agent_id": "no such agent in your organization"}


def test_another_organizations_api_key_cannot_be_managed(client, tenant, other_tenant, logged_in):
    from webapp.models import ApiKey

    foreign_key_id = ApiKey.query.filter_by(organization_id=other_tenant.org_id).first().id
    headers = {"X-CSRFToken": logged_in}
    assert_error(client.delete(f"/api/v1/api-keys/{foreign_key_id}", headers=headers), 404)
    assert_error(client.post(f"/api/v1/api-keys/{foreign_key_id}/regenerate", headers=headers), 404)
    assert_ok(other_tenant.api.get("/agents"), paginated=True)
