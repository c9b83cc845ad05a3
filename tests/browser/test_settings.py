"""Settings in a real browser: an API key is shown once, works against the API, and stops on revoke."""

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_section, screenshot
from tests.support import scaled

pytestmark = pytest.mark.browser


def test_create_an_api_key_use_it_once_shown_then_revoke_it(browser, tenant, live_server):
    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    open_section(page, "Settings")
    keys = page.get_by_role("region", name="API keys")
    keys.get_by_label("Key name").fill("CRM integration")
    keys.get_by_role("button", name="Create key").click()
    new_key = page.locator("#new-api-key")
    expect(new_key).to_have_value(re.compile(r"^va_\S{40,}$"))
    expect(keys).to_contain_text("Copy this key now.")
    row = keys.get_by_role("row", name=re.compile("CRM integration"))
    expect(row).to_contain_text("active")
    screenshot(page, "settings-api-key-created")
    key = new_key.input_value()

    def agents_status() -> int:
        headers = {"Authorization": f"Bearer {key}"}
        return requests.get(f"{live_server}/api/v1/agents", headers=headers, timeout=scaled(10)).status_code

    assert agents_status() == 200
    page.reload()
    expect(page.locator("#new-api-key")).to_have_count(0)  # shown once
    expect(row).to_contain_text(key[:11])  # the prefix identifies it

    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Revoke CRM integration").click()
    expect(row).to_contain_text("revoked")
    expect(page.get_by_role("status")).to_have_text(re.compile(r"API key va_\S+… revoked\."))
    assert agents_status() == 401
    screenshot(page, "settings-api-key-revoked")

    organization = page.get_by_role("region", name="Organization")
    organization.get_by_label("Name").fill("Renamed Co")
    organization.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text("Organization renamed.")
    assert tenant.api.get("/agents").status_code == 200  # the tenant's own key still works
    page.reload()
    expect(page.locator(".account-name")).to_contain_text("Renamed Co")

    secret = page.get_by_role("region", name="Webhook signing secret")
    secret.get_by_role("link", name="Reveal secret").click()
    expect(secret.get_by_label("Webhook signing secret")).to_have_value(re.compile(r"^whsec_"))
