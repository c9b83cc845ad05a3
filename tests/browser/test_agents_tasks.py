"""Agents and tasks in a real browser: the agent editor with server-side validation, and CSV import."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_section, screenshot

pytestmark = pytest.mark.browser


def test_create_an_agent_with_voice_settings_and_dtmf_rules(browser, tenant):
    browser.expect_http_error(400)  # the first submission is refused with the errors next to the fields
    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    open_section(page, "Agents")
    expect(page.get_by_role("heading", name="No agents yet")).to_be_visible()
    page.get_by_role("link", name="Create your first agent").click()
    expect(page).to_have_title("New agent · Voice agents")

    page.get_by_label("Name").fill("Delivery confirmation")
    page.get_by_label("Instructions (system prompt)").fill("You confirm delivery windows politely.")
    page.get_by_label("Opening line").fill("Hi {{customer_name}}, this is Acme about order {{order_id}}.")
    page.get_by_label("Stability (0–1)").fill("0.5")
    page.get_by_label("Speed (0.7–1.2)").fill("2")
    page.get_by_role("button", name="Add a menu rule").click()
    page.locator("#nav-rows input[name=nav_when]").fill("press 1 for deliveries")
    page.locator("#nav-rows input[name=nav_press]").fill("1")
    page.get_by_role("button", name="Add a key rule").click()
    page.locator("#input-rows select[name=input_key]").select_option("0")
    page.locator("#input-rows select[name=input_action]").select_option("transfer")
    page.get_by_role("button", name="Create agent").click()

    expect(page.locator("#voice_speed-error")).to_have_text("Input should be less than or equal to 1.2.")
    expect(page.get_by_label("Speed (0.7–1.2)")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#input-rows .row-error")).to_have_text("A transfer needs to_number.")
    expect(page.get_by_label("Name")).to_have_value("Delivery confirmation")  # what was typed is kept
    expect(page.locator("#nav-rows input[name=nav_press]")).to_have_value("1")
    screenshot(page, "agent-form-errors")

    page.get_by_label("Speed (0.7–1.2)").fill("1.1")
    page.locator("#input-rows input[name=input_to_number]").fill("+14155550199")
    page.get_by_label("At voicemail").select_option("leave_message")
    page.get_by_label("Voicemail message").fill("Hi {{customer_name}}, Acme here: please call us back.")
    page.get_by_role("button", name="Create agent").click()
    page.wait_for_url(re.compile(r"/agents$"))
    expect(page.get_by_role("status")).to_have_text("Agent “Delivery confirmation” created.")
    row = page.get_by_role("row", name=re.compile("Delivery confirmation"))
    expect(row).to_contain_text("enabled")

    stored = tenant.api.get("/agents").get_json()["data"][0]
    assert stored["voice_settings"]["speed"] == 1.1 and stored["voice_settings"]["stability"] == 0.5
    assert stored["dtmf_rules"] == {
        "navigation": [{"when": "press 1 for deliveries", "press": "1"}],
        "inputs": {"0": {"action": "transfer", "to_number": "+14155550199", "label": None}},
    }
    assert (stored["voicemail_action"], stored["voicemail_message"]) == (
        "leave_message", "Hi {{customer_name}}, Acme here: please call us back.")  # fmt: skip
    row.get_by_role("button", name="Disable Delivery confirmation").click()
    expect(row).to_contain_text("disabled")
    expect(page.get_by_role("status")).to_have_text("Agent “Delivery confirmation” disabled.")
    assert tenant.api.get("/agents").get_json()["data"][0]["enabled"] is False
    screenshot(page, "agents")


def test_import_tasks_from_csv_reports_each_refused_row(browser, tenant):
    agent = tenant.agent(name="Reminder agent")
    csv_file = (
        "name,to_number,agent,priority,customer_name,order_id\n"
        "Call Ann,+14155550123,Reminder agent,2,Ann Lee,A-1\n"
        "Call Bob,+1415555,Reminder agent,,Bob Stone,A-2\n"
        f"Call Cat,+14155550124,{agent['id']},,Cat Diaz,A-3\n"
        "Call Dan,+14155550125,Nobody,,Dan Roe,A-4\n"
    )
    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    open_section(page, "Tasks")
    page.get_by_role("link", name="Import CSV").click()
    expect(page).to_have_title("Import tasks · Voice agents")
    page.get_by_label("CSV file").set_input_files(
        {"name": "tasks.csv", "mimeType": "text/csv", "buffer": csv_file.encode()}
    )
    page.get_by_role("button", name="Import tasks").click()

    report = page.locator("#import-report")
    expect(report).to_contain_text("2 tasks created, 2 rows refused.")
    refused = report.locator("#refused-rows tbody tr")
    expect(refused).to_have_count(2)
    expect(refused.nth(0)).to_contain_text("3")
    expect(refused.nth(0)).to_contain_text("Call Bob")
    expect(refused.nth(0)).to_contain_text("to_number: Has the wrong number of digits for its country code.")
    expect(refused.nth(1)).to_contain_text("agent: no agent named or with id “Nobody” in your organization")
    screenshot(page, "task-import-report")

    tasks = {task["name"]: task for task in tenant.api.get("/tasks").get_json()["data"]}
    assert sorted(tasks) == ["Call Ann", "Call Cat"]
    assert tasks["Call Ann"]["priority"] == 2
    assert tasks["Call Ann"]["context_data"] == {"customer_name": "Ann Lee", "order_id": "A-1"}
    assert tasks["Call Cat"]["agent_id"] == agent["id"]

    report.get_by_role("link", name="See the pending tasks").click()
    expect(page.locator("#task-list tbody tr")).to_have_count(2)
    page.get_by_label("Status").select_option("completed")
    expect(page.get_by_role("heading", name="No tasks match these filters")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tasks\?status=completed"))
    page.get_by_label("Status").select_option("")
    expect(page.locator("#task-list tbody tr")).to_have_count(2)
    screenshot(page, "tasks")

    page.get_by_role("link", name="Edit Call Ann").click()
    page.get_by_label("Task name").fill("Call Ann Lee")
    page.get_by_role("button", name="Save task").click()
    expect(page.get_by_role("status")).to_have_text("Task “Call Ann Lee” saved.")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete Call Cat").click()
    expect(page.get_by_role("status")).to_have_text("Task “Call Cat” deleted.")
    expect(page.locator("#task-list tbody tr")).to_have_count(1)

    browser.expect_http_error(409)  # an agent with a pending task cannot be deleted
    open_section(page, "Agents")
    agent_row = page.get_by_role("row", name=re.compile("Reminder agent"))
    agent_row.get_by_role("button", name="Delete Reminder agent").click()
    expect(agent_row.get_by_role("alert")).to_have_text(
        "Agent has 1 pending or in-progress task(s); finish or delete them first"
    )
    assert tenant.api.get(f"/agents/{agent['id']}").status_code == 200
