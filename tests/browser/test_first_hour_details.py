"""The smaller things a new user trips on: numbers typed with spaces, a finished task's page, revoked
keys, and times shown in one format with their zone."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_section, screenshot

pytestmark = pytest.mark.browser


def test_a_number_typed_with_spaces_and_dashes_is_accepted(browser, tenant):
    tenant.agent(name="Typing agent")
    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    page.goto("/tasks/new")
    page.get_by_label("Task name").fill("Call Sam")
    page.get_by_label("Agent").select_option(label="Typing agent")
    page.get_by_label("Phone number").fill("+1 415-555 0199")
    page.get_by_role("button", name="Create task").click()
    page.wait_for_url(re.compile(r"/tasks$"))
    expect(page.get_by_role("row", name=re.compile("Call Sam"))).to_contain_text("+14155550199")


def test_a_finished_task_page_says_so_calmly_and_can_reset_it(browser, tenant, db):
    from webapp.models import Task

    task = tenant.task(name="Done task")
    db.session.get(Task, task["id"]).status = "completed"
    db.session.commit()
    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    page.goto(f"/tasks/{task['id']}")
    notice = page.get_by_role("status").filter(has_text="Reset it to pending")
    expect(notice).to_have_class(re.compile(r"\bflash-info\b"))  # a normal state, not an error
    expect(page.locator(".flash-error")).to_have_count(0)
    screenshot(page, "task-completed")
    notice.get_by_role("button", name="Reset to pending").click()
    expect(page).to_have_url(re.compile(f"/tasks/{task['id']}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("pending")
    expect(page.get_by_label("Task name")).to_be_enabled()


def test_revoked_keys_offer_no_regenerate_and_prefixes_are_whole(browser, tenant):
    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    open_section(page, "Settings")
    row = page.locator("#api-keys-section tbody tr").filter(has_text="tests")
    prefix = row.locator(".key-prefix")
    expect(prefix).to_have_text(re.compile(r"^va_[A-Za-z0-9_-]{8}$"))
    assert tenant.key.startswith(prefix.inner_text())
    expect(row.get_by_role("button", name=re.compile("^Regenerate"))).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name=re.compile("^Revoke")).click()
    expect(row).to_contain_text("revoked")
    expect(row.get_by_role("button", name=re.compile("^Regenerate"))).to_have_count(0)


def test_times_are_shown_in_one_format_with_the_viewers_zone(chromium, live_server, tenant):
    tenant.task(name="Timed task", scheduled_at="2030-01-15T17:30:00Z")
    context = chromium.new_context(base_url=live_server, timezone_id="America/New_York", locale="en-US")
    try:
        page = context.new_page()
        log_in(page, tenant.email, tenant.password)
        open_section(page, "Tasks")
        cell = page.get_by_role("row", name=re.compile("Timed task")).locator("time")
        expect(cell).to_have_text("Jan 15, 2030, 12:30 PM EST")
        page.reload()  # the same after a reload and after htmx swaps
        expect(cell).to_have_text("Jan 15, 2030, 12:30 PM EST")
    finally:
        context.close()
