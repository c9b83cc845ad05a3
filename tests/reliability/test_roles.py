"""Roles as users expect them, enforced on the server: owner (everything, the owner role), admin
(members, invites, keys, settings), member (runs agents, tasks and calls), viewer (reads only);
and invites can be revoked."""

import uuid

import pytest
import sqlalchemy as sa

from tests.reliability.helpers import logged_in_client
from tests.support import ScopedClient, Tenant, csrf_from


def accept(app, invite_url: str, password: str = "joiner-password-1") -> tuple[ScopedClient, dict]:
    browser = ScopedClient(app)
    token = invite_url.split("/invite/", 1)[1]
    page = browser.get(f"/invite/{token}").get_data(as_text=True)
    joined = browser.post(
        f"/invite/{token}", data={"name": "Joiner", "password": password, "csrf_token": csrf_from(page)}
    )
    assert joined.status_code == 302, joined.get_data(as_text=True)[:500]
    return browser, {"X-CSRFToken": browser.get("/api/v1/session").get_json()["data"]["csrf_token"]}


def join_as(app, tenant: Tenant, role: str) -> tuple[ScopedClient, dict]:
    """A new account that joined the tenant's organization with `role` through an invite."""
    owner, csrf = logged_in_client(app, tenant)
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.com"
    created = owner.post("/api/v1/users/invite", json={"email": email, "role": role}, headers=csrf)
    assert created.status_code == 201, created.get_json()
    return accept(app, created.get_json()["data"]["invite_url"])


def _form(browser: ScopedClient, path: str, **data):
    token = csrf_from(browser.get("/settings").get_data(as_text=True))
    return browser.post(path, data={**data, "csrf_token": token})


def test_a_viewer_sees_everything_and_changes_nothing(app, db, tenant):
    agent = tenant.agent(name="Existing agent")
    task = tenant.task(agent["id"])
    viewer, csrf = join_as(app, tenant, "viewer")
    for path in ("/", "/agents", f"/agents/{agent['id']}", "/tasks", f"/tasks/{task['id']}", "/calls", "/settings"):
        assert viewer.get(path).status_code == 200, path
    assert viewer.get("/api/v1/session").get_json()["data"]["organization"]["role"] == "viewer"
    for path in ("/agents/new", "/tasks/new", "/tasks/import", "/campaigns/new"):  # pages only for creating
        assert viewer.get(path).status_code == 403, path
    campaign = tenant.api.post("/campaigns", json={"name": "Spring", "agent_id": agent["id"],
                                                   "tasks": [{"to_number": "+14155550123"}]})  # fmt: skip
    assert campaign.status_code == 201, campaign.get_json()
    campaign_page = viewer.get(f"/campaigns/{campaign.get_json()['data']['id']}").get_data(as_text=True)
    assert "Spring" in campaign_page and "Cancel campaign" not in campaign_page and ">Start<" not in campaign_page
    assert "New campaign" not in viewer.get("/campaigns").get_data(as_text=True)
    writes = [
        ("/agents/new", {"name": "Nope", "system_prompt": "x"}),
        (f"/agents/{agent['id']}/toggle", {}),
        (f"/agents/{agent['id']}/delete", {}),
        ("/tasks/new", {"name": "Nope", "agent_id": agent["id"], "to_number": "+14155550123"}),
        (f"/tasks/{task['id']}/execute", {}),
        (f"/tasks/{task['id']}/delete", {}),
        ("/settings/organization", {"name": "Renamed"}),
        ("/settings/invites", {"email": "x@example.com", "role": "member"}),
        ("/settings/api-keys", {"name": "nope"}),
    ]
    for path, data in writes:
        assert _form(viewer, path, **data).status_code == 403, path
    for method, path, body in (
        ("post", "/api/v1/users/invite", {"email": "y@example.com"}),
        ("post", "/api/v1/api-keys", {"name": "nope"}),
        ("patch", f"/api/v1/organizations/{tenant.org_id}", {"name": "Renamed"}),
    ):
        assert getattr(viewer, method)(path, json=body, headers=csrf).status_code == 403, path
    db.session.remove()
    assert (
        db.session.execute(
            sa.text("SELECT count(*) FROM agents WHERE organization_id = :o"), {"o": tenant.org_id}
        ).scalar_one()
        == 1
    )
    assert (
        db.session.execute(sa.text("SELECT status FROM tasks WHERE id = :t"), {"t": task["id"]}).scalar_one()
        == "pending"
    )
    # A viewer still manages their own account.
    changed = _form(
        viewer, "/settings/password", current_password="joiner-password-1", new_password="viewer-password-2"
    )
    assert changed.status_code == 200


def test_a_member_runs_agents_and_tasks_but_not_the_organization(app, tenant):
    member, csrf = join_as(app, tenant, "member")
    created = _form(member, "/agents/new", name="Member's agent", system_prompt="You confirm deliveries.")
    assert created.status_code in (200, 302, 303), created.get_data(as_text=True)[:300]
    for path, data in (
        ("/settings/invites", {"email": "x@example.com"}),
        ("/settings/api-keys", {"name": "k"}),
        ("/settings/organization", {"name": "Renamed"}),
    ):
        assert _form(member, path, **data).status_code == 403, path
    assert member.post("/api/v1/users/invite", json={"email": "z@example.com"}, headers=csrf).status_code == 403


def test_admins_manage_members_but_only_owners_touch_the_owner_role(app, tenant):
    admin, admin_csrf = join_as(app, tenant, "admin")
    member, _ = join_as(app, tenant, "member")
    users = {u["role"]: u for u in admin.get("/api/v1/users").get_json()["data"]}
    member_id, owner_id = users["member"]["id"], users["owner"]["id"]
    to_viewer = admin.patch(f"/api/v1/users/{member_id}", json={"role": "viewer"}, headers=admin_csrf)
    assert to_viewer.status_code == 200 and to_viewer.get_json()["data"]["role"] == "viewer"
    assert admin.patch(f"/api/v1/users/{member_id}", json={"role": "owner"}, headers=admin_csrf).status_code == 403
    assert admin.patch(f"/api/v1/users/{owner_id}", json={"role": "member"}, headers=admin_csrf).status_code == 403
    assert admin.delete(f"/api/v1/users/{owner_id}", headers=admin_csrf).status_code == 403
    assert admin.patch(f"/api/v1/users/{member_id}", json={"role": "king"}, headers=admin_csrf).status_code == 400
    # The member, now a viewer, is refused writes from their next request on.
    assert _form(member, "/agents/new", name="x", system_prompt="y").status_code == 403


def test_invites_can_be_revoked_in_settings_and_through_the_session_api(app, db, tenant):
    owner, csrf = logged_in_client(app, tenant)
    first = owner.post("/api/v1/users/invite", json={"email": "first@example.com"}, headers=csrf).get_json()["data"]
    second = owner.post("/api/v1/users/invite", json={"email": "second@example.com"}, headers=csrf).get_json()["data"]

    revoked = owner.delete(f"/api/v1/users/invites/{first['id']}", headers=csrf)
    assert revoked.status_code == 200 and revoked.get_json()["data"]["email"] == "first@example.com"
    assert owner.delete(f"/api/v1/users/invites/{first['id']}", headers=csrf).status_code == 404  # already revoked
    page = owner.get("/settings").get_data(as_text=True)
    assert "Revoke" in page and "second@example.com" in page and "first@example.com" not in page
    answer = owner.post(f"/settings/invites/{second['id']}/revoke", data={"csrf_token": csrf_from(page)})
    assert answer.status_code == 200 and "revoked" in answer.get_data(as_text=True)
    assert owner.get("/api/v1/users/invites").get_json()["data"] == []
    for invite in (first, second):
        token = invite["invite_url"].split("/invite/", 1)[1]
        assert ScopedClient(app).get(f"/invite/{token}").status_code == 404

    other = Tenant(app, ScopedClient(app))  # another organization's invite is a 404 here
    other_owner, other_csrf = logged_in_client(app, other)
    foreign = other_owner.post("/api/v1/users/invite", json={"email": "f@example.com"}, headers=other_csrf)
    assert owner.delete(f"/api/v1/users/invites/{foreign.get_json()['data']['id']}", headers=csrf).status_code == 404
    member, member_csrf = join_as(app, tenant, "member")
    third = owner.post("/api/v1/users/invite", json={"email": "third@example.com"}, headers=csrf).get_json()["data"]
    assert member.delete(f"/api/v1/users/invites/{third['id']}", headers=member_csrf).status_code == 403


@pytest.mark.parametrize("role", ["admin", "member", "viewer"])
def test_every_role_can_be_invited(app, tenant, role):
    browser, _ = join_as(app, tenant, role)
    assert browser.get("/api/v1/organizations/current").get_json()["data"]["role"] == role
