"""Session-authenticated management endpoints: no API keys, login required, admins only for
admin actions, CSRF on every write."""

import re
import uuid

import pytest

from tests.api.helpers import assert_error, assert_ok
from tests.support import ScopedClient, csrf_from

# (method, path, admin only); {org} is the tenant's organization, {key} the tenant's API key id
SESSION_ENDPOINTS = [
    ("GET", "/api/v1/session", False),
    ("GET", "/api/v1/api-keys", True),
    ("POST", "/api/v1/api-keys", True),
    ("DELETE", "/api/v1/api-keys/{key}", True),
    ("POST", "/api/v1/api-keys/{key}/regenerate", True),
    ("GET", "/api/v1/organizations", False),
    ("POST", "/api/v1/organizations", False),
    ("GET", "/api/v1/organizations/current", False),
    ("GET", "/api/v1/organizations/{org}", False),
    ("PATCH", "/api/v1/organizations/{org}", True),
    ("POST", "/api/v1/organizations/{org}/switch", False),
    ("GET", "/api/v1/organizations/{org}/webhook-secret", True),
    ("POST", "/api/v1/organizations/{org}/webhook-secret/rotate", True),
    ("GET", "/api/v1/users", False),
    ("POST", "/api/v1/users/invite", True),
    ("GET", "/api/v1/users/invites", True),
]
ADMIN_ENDPOINTS = [(method, path) for method, path, admin in SESSION_ENDPOINTS if admin]
BODIES = {
    "/api/v1/api-keys": {"name": "k"},
    "/api/v1/organizations": {"name": "New org"},
    "/api/v1/organizations/{org}": {"name": "Renamed"},
    "/api/v1/users/invite": {"email": "x@example.com"},
}


def _key_id(tenant) -> str:
    from webapp.models import ApiKey
    from webapp.models.org import hash_token

    return ApiKey.query.filter_by(key_hash=hash_token(tenant.key)).one().id


def _request(client, tenant, method, path, **kwargs):
    url = path.format(org=tenant.org_id, key=_key_id(tenant))
    return client.open(url, method=method, json=BODIES.get(path), **kwargs)


def test_an_api_key_is_refused_on_every_session_endpoint(client, tenant):
    for method, path, _ in SESSION_ENDPOINTS:
        response = _request(client, tenant, method, path, headers={"Authorization": f"Bearer {tenant.key}"})
        error, _ = assert_error(response, 401)
        assert error == "This endpoint needs a logged-in session; API keys are not accepted here", (method, path)


def test_an_api_key_is_refused_even_beside_a_logged_in_session(client, tenant, logged_in):
    response = client.get("/api/v1/api-keys", headers={"Authorization": f"Bearer {tenant.key}"})
    assert_error(response, 401)


def test_every_session_endpoint_needs_a_login(client, tenant):
    for method, path, _ in SESSION_ENDPOINTS:
        error, _ = assert_error(_request(client, tenant, method, path), 401)
        assert error == "Log in first: this endpoint uses session authentication", (method, path)


@pytest.fixture
def member(app, client, tenant, logged_in):
    """A second browser logged in as a member who joined through the real invite form."""
    email = f"member-{uuid.uuid4().hex[:8]}@example.com"
    invite = assert_ok(client.post("/api/v1/users/invite", json={"email": email.upper(), "role": "member"},
                                   headers={"X-CSRFToken": logged_in}), 201)  # fmt: skip
    assert invite["email"] == email and invite["role"] == "member"
    browser = ScopedClient(app)
    path = re.sub(r"^https?://[^/]+", "", invite["invite_url"])
    form = browser.get(path)
    assert form.status_code == 200 and email in form.get_data(as_text=True)
    joined = browser.post(path, data={"name": "Mia Member", "password": "member-password",
                                      "csrf_token": csrf_from(form.get_data(as_text=True))})  # fmt: skip
    assert joined.status_code == 302
    browser.csrf = assert_ok(browser.get("/api/v1/session"))["csrf_token"]
    browser.email = email
    return browser


def test_a_member_sees_their_session_and_the_members(member, tenant):
    session = assert_ok(member.get("/api/v1/session"))
    assert session["user"]["email"] == member.email
    assert session["organization"] == {**session["organization"], "id": tenant.org_id, "role": "member"}
    roles = {user["email"]: user["role"] for user in assert_ok(member.get("/api/v1/users"))}
    assert roles == {tenant.email: "owner", member.email: "member"}


def test_a_member_is_forbidden_every_admin_action(member, tenant):
    for method, path in ADMIN_ENDPOINTS:
        response = _request(member, tenant, method, path, headers={"X-CSRFToken": member.csrf})
        error, _ = assert_error(response, 403)
        assert error == "Only organization owners and admins can do this", (method, path)
    assert_ok(tenant.api.get("/agents"), paginated=True)
    assert {org["name"] for org in assert_ok(member.get("/api/v1/organizations"))} == {tenant.org.name}


def test_writes_without_the_csrf_token_are_403(client, tenant, logged_in):
    for headers in ({}, {"X-CSRFToken": "not-the-token"}):
        error, details = assert_error(client.post("/api/v1/api-keys", json={"name": "k"}, headers=headers), 403)
        assert error == "CSRF token missing or invalid: send it as X-CSRFToken"
        assert "csrf" in details
    assert_error(client.patch(f"/api/v1/organizations/{tenant.org_id}", json={"name": "X"}), 403)
    assert_ok(client.post("/api/v1/api-keys", json={"name": "k"}, headers={"X-CSRFToken": logged_in}), 201)


@pytest.mark.parametrize("form", ["/login", "/signup"])
def test_dashboard_forms_without_csrf_token_are_refused(client, tenant, form):
    data = {"email": tenant.email, "password": tenant.password, "organization": "Sneaky"}
    response = client.post(form, data=data)
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert_error(client.get("/api/v1/session"), 401)


def test_invites_list_refuses_existing_members_and_owner_role(client, tenant, logged_in, member):
    headers = {"X-CSRFToken": logged_in}
    error, _ = assert_error(client.post("/api/v1/users/invite", json={"email": member.email},
                                        headers=headers), 409)  # fmt: skip
    assert error == "This person is already a member"
    _, details = assert_error(client.post("/api/v1/users/invite", json={"email": "o@example.com", "role": "owner"},
                                          headers=headers), 400)  # fmt: skip
    assert list(details) == ["role"]
    _, details = assert_error(client.post("/api/v1/users/invite", json={"email": "not-an-email"}, headers=headers), 400)
    assert list(details) == ["email"]
    assert assert_ok(client.get("/api/v1/users/invites")) == []


def test_organizations_create_switch_rename(client, tenant, other_tenant, logged_in):
    headers = {"X-CSRFToken": logged_in}
    created = assert_ok(client.post("/api/v1/organizations", json={"name": "  Second org "}, headers=headers), 201)
    assert created["name"] == "Second org" and created["role"] == "owner"
    assert assert_ok(client.get("/api/v1/organizations/current"))["id"] == created["id"]
    listed = assert_ok(client.get("/api/v1/organizations"))
    assert {org["id"] for org in listed} == {tenant.org_id, created["id"]}

    assert (
        assert_ok(client.post(f"/api/v1/organizations/{tenant.org_id}/switch", headers=headers))["id"] == tenant.org_id
    )
    assert assert_ok(client.get("/api/v1/organizations/current"))["id"] == tenant.org_id
    renamed = assert_ok(client.patch(f"/api/v1/organizations/{created['id']}", json={"name": "Renamed"},
                                     headers=headers))  # fmt: skip
    assert renamed["name"] == "Renamed"
    assert assert_ok(client.get(f"/api/v1/organizations/{created['id']}"))["name"] == "Renamed"
    _, details = assert_error(client.patch(f"/api/v1/organizations/{created['id']}", json={"name": " "},
                                           headers=headers), 400)  # fmt: skip
    assert list(details) == ["name"]
    for method in ("GET", "PATCH"):
        response = client.open(f"/api/v1/organizations/{other_tenant.org_id}", method=method,
                               json={"name": "Mine now"}, headers=headers)  # fmt: skip
        assert_error(response, 404)
    assert_error(client.post(f"/api/v1/organizations/{other_tenant.org_id}/switch", headers=headers), 404)


def test_webhook_secret_reveal_and_rotate(client, tenant, other_tenant, logged_in):
    headers = {"X-CSRFToken": logged_in}
    path = f"/api/v1/organizations/{tenant.org_id}/webhook-secret"
    secret = assert_ok(client.get(path))["webhook_secret"]
    assert secret.startswith("whsec_") and len(secret) > 30
    rotated = assert_ok(client.post(f"{path}/rotate", headers=headers))["webhook_secret"]
    assert rotated.startswith("whsec_") and rotated != secret
    assert assert_ok(client.get(path)) == {"webhook_secret": rotated}
    assert_error(client.get(f"/api/v1/organizations/{other_tenant.org_id}/webhook-secret"), 404)
    assert_error(
        client.post(f"/api/v1/organizations/{other_tenant.org_id}/webhook-secret/rotate", headers=headers), 404
    )
