"""Accounts in a real browser: sign up, the login rate limit, and invites with server-side roles."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import csrf_token, log_in, open_section, screenshot

pytestmark = pytest.mark.browser


def test_sign_up_creates_the_organization_and_says_what_to_do_next(browser):
    browser.expect_http_error(400)  # the form with a too short password comes back as a 400
    page = browser.new_page()
    page.goto("/signup")
    expect(page).to_have_title("Sign up · Voice agents")
    suffix = uuid.uuid4().hex[:6]
    page.get_by_label("Organization name").fill(f"Acme {suffix}")
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Email").fill(f"ada-{suffix}@example.com")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Sign up").click()
    expect(page.locator("#password-error")).to_contain_text("at least 8 characters")
    screenshot(page, "signup-error")

    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(re.compile(r"/$"))
    expect(page).to_have_title("Overview · Voice agents")
    expect(page.get_by_role("heading", name="Welcome! Start by creating an agent")).to_be_visible()
    expect(page.locator(".account-name")).to_have_text(f"Acme {suffix} · owner")
    session_cookie = next(cookie for cookie in page.context.cookies() if cookie["name"] == "session")
    assert session_cookie["httpOnly"] and session_cookie["sameSite"] == "Lax"
    screenshot(page, "overview-empty")


def test_too_many_logins_show_a_rate_limit_message(browser, tenant, app):
    browser.expect_http_error(401)
    browser.expect_http_error(429)
    allowed = int(re.match(r"\d+", app.config["LOGIN_RATE_LIMIT"]).group())
    page = browser.new_page()
    page.goto("/login")
    for _ in range(allowed):
        page.get_by_label("Email").fill(tenant.email)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")

    page.get_by_label("Password").fill(tenant.password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Too many login attempts")
    expect(page).to_have_title("Log in · Voice agents")
    screenshot(page, "login-rate-limited")


def test_invited_member_joins_and_is_refused_admin_actions_on_the_server(browser, tenant):
    owner = browser.new_page()
    log_in(owner, tenant.email, tenant.password)
    open_section(owner, "Settings")
    member_email = f"member-{uuid.uuid4().hex[:6]}@example.com"
    invites = owner.locator("#invites-section")
    invites.get_by_label("Email").fill(member_email)
    invites.get_by_label("Role").select_option("member")
    invites.get_by_role("button", name="Create invite link").click()
    link = owner.locator("#invite-link")
    expect(link).to_have_value(re.compile(r"/invite/"))
    expect(invites).to_contain_text(f"{member_email} as member")
    screenshot(owner, "settings-invite")
    invite_url = link.input_value()

    member = browser.new_page()  # a fresh browser context: nobody is logged in
    member.goto(invite_url)
    expect(member.get_by_role("heading", name="Join the organization")).to_be_visible()
    member.get_by_label("Your name").fill("Mo Member")
    member.get_by_label("Password").fill("member-password-1")
    member.get_by_role("button", name="Join").click()
    member.wait_for_url(re.compile(r"/$"))
    expect(member.locator(".flash")).to_contain_text("You have joined the organization")
    member.get_by_role("button", name="Log out").click()
    member.wait_for_url(re.compile(r"/login$"))
    log_in(member, member_email, "member-password-1")
    expect(member.locator(".account-name")).to_contain_text("· member")

    open_section(member, "Settings")
    expect(member.get_by_text("You are a member: owners and admins change these settings.")).to_be_visible()
    expect(member.locator("#api-keys-section, #invites-section, #webhook-secret-section")).to_have_count(0)
    screenshot(member, "settings-member")

    browser.expect_http_error(403)
    token = csrf_token(member)
    admin_writes = ("/settings/api-keys", "/settings/invites", "/settings/webhook-secret/rotate",
                    "/settings/organization")  # fmt: skip
    for path in admin_writes:
        response = member.request.post(path, form={"csrf_token": token, "name": "sneaky", "email": "x@example.com"})
        assert response.status == 403, (path, response.status)
        assert "Only organization owners and admins can do this." in response.text()
    refused = member.goto("/settings/webhook-secret")
    assert refused.status == 403
    expect(member.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(member).to_have_title("Not allowed · Voice agents")
    screenshot(member, "forbidden")

    owner.reload()
    expect(owner.locator("#api-keys-section tbody tr")).to_have_count(1)  # nothing the member sent was saved
    members = owner.get_by_role("region", name="Members")
    members.get_by_label(f"Role of {member_email}").select_option("admin")
    members.get_by_role("row", name=re.compile(member_email)).get_by_role("button", name="Change").click()
    expect(owner.get_by_role("status")).to_have_text(f"{member_email} is now admin.")
    promoted = member.request.post("/settings/api-keys", form={"csrf_token": token, "name": "now allowed"})
    assert promoted.status == 200 and 'id="new-api-key"' in promoted.text()
