"""Sessions end when they should (a copied cookie stops working after logout, "log out of all
devices", a password change, removal from the organization), and login only redirects on-site."""

import uuid

import pytest

from tests.reliability.helpers import logged_in_client
from tests.support import ScopedClient, Tenant, csrf_from


def _copy_of(app, browser: ScopedClient) -> ScopedClient:
    """Another browser holding a copy of `browser`'s session cookie (a stolen or synced cookie)."""
    thief = ScopedClient(app)
    cookie = browser.get_cookie("session")
    thief.set_cookie("session", cookie.value)
    return thief


def _is_logged_in(client: ScopedClient) -> bool:
    return client.get("/api/v1/session").status_code == 200


def test_a_copied_session_cookie_stops_working_after_logout(app, tenant):
    browser, _ = logged_in_client(app, tenant)
    copy = _copy_of(app, browser)
    assert _is_logged_in(copy)
    page = browser.get("/settings").get_data(as_text=True)
    assert browser.post("/logout", data={"csrf_token": csrf_from(page)}).status_code == 302
    assert not _is_logged_in(browser) and not _is_logged_in(copy)
    dashboard = copy.get("/agents")
    assert dashboard.status_code == 302 and "/login" in dashboard.headers["Location"]
    fresh, _ = logged_in_client(app, tenant)  # logging in again works
    assert _is_logged_in(fresh)


def test_log_out_of_all_devices_from_settings_and_the_api(app, tenant):
    laptop, _ = logged_in_client(app, tenant)
    phone, phone_csrf = logged_in_client(app, tenant)
    page = laptop.get("/settings").get_data(as_text=True)
    assert "Log out of all devices" in page
    answer = laptop.post("/settings/logout-everywhere", data={"csrf_token": csrf_from(page)})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
    assert not _is_logged_in(laptop) and not _is_logged_in(phone)

    laptop, _ = logged_in_client(app, tenant)
    phone, phone_csrf = logged_in_client(app, tenant)
    ended = phone.post("/api/v1/session/logout-everywhere", headers=phone_csrf)
    assert ended.status_code == 200 and ended.get_json()["success"] is True
    assert not _is_logged_in(laptop) and not _is_logged_in(phone)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, tenant):
    browser, _ = logged_in_client(app, tenant)
    other = _copy_of(app, browser)
    page = browser.get("/settings").get_data(as_text=True)
    changed = browser.post(
        "/settings/password",
        data={
            "current_password": tenant.password,
            "new_password": "a-brand-new-password",
            "csrf_token": csrf_from(page),
        },
    )
    assert changed.status_code == 200 and "Password changed" in changed.get_data(as_text=True)
    assert _is_logged_in(browser) and not _is_logged_in(other)
    tenant.password = "a-brand-new-password"
    assert _is_logged_in(logged_in_client(app, tenant)[0])


def test_removal_from_the_organization_ends_the_members_sessions(app, tenant):
    member = Tenant(app, ScopedClient(app))  # an account with an organization of its own
    owner, owner_csrf = logged_in_client(app, tenant)
    invite = owner.post("/api/v1/users/invite", json={"email": member.email}, headers=owner_csrf).get_json()["data"]
    joiner = ScopedClient(app)
    token = invite["invite_url"].split("/invite/", 1)[1]
    page = joiner.get(f"/invite/{token}").get_data(as_text=True)
    assert (
        joiner.post(f"/invite/{token}", data={"password": member.password, "csrf_token": csrf_from(page)}).status_code
        == 302
    )
    assert joiner.get("/api/v1/organizations/current").get_json()["data"]["id"] == tenant.org_id

    removed = owner.delete(f"/api/v1/users/{member.owner.id}", headers=owner_csrf)
    assert removed.status_code == 200, removed.get_json()
    assert not _is_logged_in(joiner)
    users = owner.get("/api/v1/users").get_json()["data"]
    assert member.email not in {user["email"] for user in users}


HOSTILE_NEXT = [
    "/%09/evil.example/",
    "/\t/evil.example/",
    "//evil.example/",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "/%0d%0a/evil.example",
    "/\n/evil.example",
    " /evil.example",
    "evil.example",
    "/%5cevil.example",
    "/\x00/evil.example",
    "/\u3000/evil.example",
]


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_never_redirects_off_site(app, tenant, target):
    client = ScopedClient(app)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    answer = client.post(
        "/login",
        query_string={"next": target},
        data={"email": tenant.email, "password": tenant.password, "csrf_token": token},
    )
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location == "/", f"{target!r} → {location!r}"


def test_login_follows_same_site_paths(app, tenant):
    client = ScopedClient(app)
    token = csrf_from(client.get("/login").get_data(as_text=True))
    target = f"/tasks?status=pending&page=2#row-{uuid.uuid4().hex[:4]}"
    answer = client.post(
        "/login",
        query_string={"next": target},
        data={"email": tenant.email, "password": tenant.password, "csrf_token": token},
    )
    assert answer.status_code == 302 and answer.headers["Location"] == target
