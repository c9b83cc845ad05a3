"""The import page's example is built from the organization's own agents and imports as it is; a
file without an agent column uses the agent chosen in the form."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_section, screenshot

pytestmark = pytest.mark.browser


def _open_import(browser, tenant):
    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    open_section(page, "Tasks")
    page.get_by_role("link", name="Import CSV").click()
    expect(page).to_have_title("Import tasks · Voice agents")
    return page


def test_the_example_file_names_our_agents_and_imports_as_it_is(browser, tenant):
    tenant.agent(name="Renewals desk")
    page = _open_import(browser, tenant)
    example = page.get_by_label("Example import")
    expect(example).to_contain_text("Renewals desk")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the example file").click()
    content = open(download.value.path()).read()  # noqa: SIM115 - a temporary file Playwright removes
    assert "Renewals desk" in content and content == example.inner_text().rstrip("\n") + "\n"
    screenshot(page, "task-import-example")

    page.get_by_label("CSV file").set_input_files({"name": "example.csv", "mimeType": "text/csv",
                                                   "buffer": content.encode()})  # fmt: skip
    page.get_by_role("button", name="Import tasks").click()
    expect(page.locator("#import-report")).to_contain_text("2 tasks created")
    numbers = sorted(task["to_number"] for task in tenant.api.get("/tasks").get_json()["data"])
    assert numbers == ["+14155550123", "+14155550124"]  # "+1 415 555 0124" normalised


def test_rows_without_an_agent_use_the_one_chosen_in_the_form(browser, tenant):
    agent = tenant.agent(name="Chosen agent")
    tenant.agent(name="Other agent")
    page = _open_import(browser, tenant)
    page.get_by_label("Agent for rows without one").select_option(label="Chosen agent")
    csv_file = "name,to_number,customer_name\nCall Eve,+14155550150,Eve Park\nCall Fay,415-555-0151,Fay Ito\n"
    page.get_by_label("CSV file").set_input_files({"name": "no-agent.csv", "mimeType": "text/csv",
                                                   "buffer": csv_file.encode()})  # fmt: skip
    page.get_by_role("button", name="Import tasks").click()
    expect(page.locator("#import-report")).to_contain_text(re.compile(r"2 tasks created"))
    tasks = tenant.api.get("/tasks").get_json()["data"]
    assert {task["agent_id"] for task in tasks} == {agent["id"]}
    assert sorted(task["to_number"] for task in tasks) == ["+14155550150", "+14155550151"]


def test_without_an_agent_column_or_choice_the_file_is_refused_with_why(browser, tenant):
    tenant.agent(name="Some agent")
    page = _open_import(browser, tenant)
    page.get_by_label("CSV file").set_input_files({"name": "bad.csv", "mimeType": "text/csv",
                                                   "buffer": b"name,to_number\nCall Gus,+14155550160\n"})  # fmt: skip
    page.get_by_role("button", name="Import tasks").click()
    expect(page.locator("#import-report")).to_contain_text("missing: agent (or choose the agent for every row")
