"""Roles and sessions in a real browser: an owner revokes an invite, a viewer joins and is offered
nothing to change, and "Log out of all devices" ends the viewer's other session."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_section, screenshot

pytestmark = pytest.mark.browser


def create_invite(page, email: str, role: str) -> str:
    invites = page.locator("#invites-section")
    invites.get_by_label("Email").fill(email)
    invites.get_by_label("Role").select_option(role)
    invites.get_by_role("button", name="Create invite link").click()
    expect(invites).to_contain_text(f"{email} as {role}")
    return page.locator("#invite-link").input_value()


def test_revoke_an_invite_then_a_viewer_joins_reads_and_logs_out_everywhere(browser, tenant):
    tenant.agent(name="Delivery confirmation")
    owner = browser.new_page()
    log_in(owner, tenant.email, tenant.password)
    open_section(owner, "Settings")
    suffix = uuid.uuid4().hex[:6]
    viewer_email, revoked_email = f"viewer-{suffix}@example.com", f"revoked-{suffix}@example.com"
    viewer_link = create_invite(owner, viewer_email, "viewer")
    revoked_link = create_invite(owner, revoked_email, "member")

    invites = owner.locator("#invites-section")
    invites.get_by_role("button", name=f"Revoke the invite for {revoked_email}").click()
    expect(owner.locator(".flash")).to_have_text(f"Invite for {revoked_email} revoked: its link no longer works.")
    expect(invites).not_to_contain_text(f"{revoked_email} as member")
    expect(invites).to_contain_text(f"{viewer_email} as viewer")
    screenshot(owner, "settings-invite-revoked")

    browser.expect_http_error(404)
    stranger = browser.new_page()
    stranger.goto(revoked_link)
    expect(stranger.get_by_role("heading", name="This invite is not valid")).to_be_visible()

    viewer = browser.new_page()
    viewer.goto(viewer_link)
    viewer.get_by_label("Your name").fill("Vera Viewer")
    viewer.get_by_label("Password").fill("viewer-password-1")
    viewer.get_by_role("button", name="Join").click()
    viewer.wait_for_url(re.compile(r"/$"))
    expect(viewer.locator(".account-name")).to_contain_text("· viewer")
    expect(viewer.get_by_role("link", name="New task")).to_have_count(0)
    open_section(viewer, "Agents")
    expect(viewer.get_by_role("row", name=re.compile("Delivery confirmation"))).to_be_visible()
    expect(viewer.get_by_role("link", name="New agent")).to_have_count(0)
    expect(viewer.get_by_role("button", name=re.compile("^(Disable|Delete) "))).to_have_count(0)
    open_section(viewer, "Settings")
    expect(viewer.get_by_text("You are a viewer: owners and admins change these settings.")).to_be_visible()
    screenshot(viewer, "settings-viewer")

    second_device = browser.new_page()
    log_in(second_device, viewer_email, "viewer-password-1")
    viewer.get_by_role("button", name="Log out of all devices").click()
    viewer.wait_for_url(re.compile(r"/login$"))
    second_device.reload()
    expect(second_device).to_have_url(re.compile(r"/login"))
    expect(second_device.get_by_role("heading", name="Log in")).to_be_visible()
