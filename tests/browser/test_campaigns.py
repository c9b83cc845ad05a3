"""Campaigns and the do-not-call list in a real browser: CSV upload with column mapping and a
preview with per-row errors before anything exists, the campaign page, pause/cancel; Settings →
Do not call."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_section, screenshot

pytestmark = pytest.mark.browser

CSV = (
    "phone,full_name,order_id\n"
    "+12125550123,Jane Roe,A-1\n"
    "12345,Bad Number,A-2\n"
    "+61291234567,Bruce Lee,\n"
    "+12125550123,Jane Again,A-4\n"
)


def test_create_a_campaign_from_a_csv_with_a_preview(browser, tenant):
    browser.expect_http_error(400)
    tenant.agent(name="Renewals agent", starting_message="Hi {{full_name}}, about order {{order_id}}.")
    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    open_section(page, "Campaigns")
    expect(page.get_by_role("heading", name="No campaigns yet")).to_be_visible()
    page.get_by_role("link", name="Create a campaign").click()
    expect(page).to_have_title("New campaign · Voice agents")
    page.get_by_label("Name").fill("December renewals")
    page.get_by_label("Mon").check()
    page.get_by_label("Tue").check()
    page.get_by_label("From (HH:MM)").fill("09:00")
    page.get_by_label("Until (HH:MM)").fill("20:00")
    page.get_by_label("Calls at once").fill("3")
    upload = {"name": "people.csv", "mimeType": "text/csv", "buffer": CSV.encode()}
    page.get_by_label("CSV file").set_input_files(upload)
    page.get_by_role("button", name="Preview").click()

    expect(page.get_by_label("Phone number")).to_have_value("phone")  # guessed from the header
    preview = page.get_by_role("table")
    expect(preview.get_by_role("row")).to_have_count(5)
    expect(preview.get_by_role("row", name=re.compile("Bad Number"))).to_contain_text("Invalid number")
    expect(preview.get_by_role("row", name=re.compile("Bruce Lee"))).to_contain_text("order_id")
    expect(preview.get_by_role("row", name=re.compile("Jane Again"))).to_contain_text("Duplicate number")
    expect(page.get_by_text("1 of these rows are ready; 3 would be refused.")).to_be_visible()
    assert tenant.api.get("/campaigns").get_json()["data"] == []  # nothing created by a preview
    screenshot(page, "campaign-preview")

    page.get_by_label("Name (optional)").select_option("full_name")
    page.get_by_role("button", name="Create campaign").click()
    page.wait_for_url(re.compile(r"/campaigns/[0-9a-f-]{36}$"))
    expect(page.get_by_role("status")).to_contain_text("created with 1 tasks; 3 rows refused.")
    expect(page.locator('[data-counter="pending"]')).to_have_text("1")
    campaign = tenant.api.get("/campaigns").get_json()["data"][0]
    assert campaign["calling_window"] == {"days": ["mon", "tue"], "start": "09:00", "end": "20:00"}
    assert campaign["max_concurrent_calls"] == 3
    task = tenant.api.get(f"/tasks?campaign_id={campaign['id']}").get_json()["data"][0]
    assert task["name"] == "Jane Roe" and task["context_data"] == {"full_name": "Jane Roe", "order_id": "A-1"}

    page.get_by_role("button", name="Start").click()
    expect(page.get_by_role("button", name="Pause")).to_be_visible()
    page.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel campaign").click()
    expect(page.locator('[data-counter="failed"]')).to_have_text("1")
    assert tenant.api.get(f"/campaigns/{campaign['id']}").get_json()["data"]["status"] == "cancelled"
    screenshot(page, "campaign-page")


def test_do_not_call_page_under_settings(browser, tenant):
    browser.expect_http_error(400)
    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    open_section(page, "Settings")
    page.get_by_role("link", name="Do-not-call list and call limit").click()
    expect(page).to_have_title("Do not call · Voice agents")
    page.get_by_label("Number (international format)").fill("555")
    page.get_by_role("button", name="Add to the list").click()
    expect(page.locator("#dnc-body .field-error").first).to_be_visible()
    page.get_by_label("Number (international format)").fill("+12125550142")
    page.get_by_label("Reason (optional)").fill("asked by email")
    page.get_by_role("button", name="Add to the list").click()
    row = page.get_by_role("row", name=re.compile(r"\+12125550142"))
    expect(row).to_contain_text("asked by email")
    page.get_by_label("Import a CSV").set_input_files(
        {"name": "dnc.csv", "mimeType": "text/csv", "buffer": b"number,reason\n+12125550143,x\nnope,y\n"}
    )
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.get_by_role("status").filter(has_text="numbers added")).to_contain_text("1 numbers added; 1 refused")
    page.get_by_label("Most calls at once for the organization").fill("25")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_label("Most calls at once for the organization")).to_have_value("25")
    numbers = {entry["number"] for entry in tenant.api.get("/dnc").get_json()["data"]}
    assert numbers == {"+12125550142", "+12125550143"}
    screenshot(page, "settings-dnc")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove +12125550142").click()
    expect(page.get_by_role("row", name=re.compile(r"\+12125550142"))).to_have_count(0)
