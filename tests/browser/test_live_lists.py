"""Lists follow work they did not start: a call placed through the API while the Calls, Tasks and
Overview pages are open appears on each, runs and finishes there without a reload; the pages poll
only while something runs (otherwise they only listen on the activity socket)."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_section, screenshot
from tests.support import scaled, wait_until

pytestmark = pytest.mark.browser


def _open(browser, tenant, section: str):
    page = browser.new_page()
    frames: list[dict] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda payload: frames.append(json.loads(payload))))
    log_in(page, tenant.email, tenant.password)
    if section != "Overview":
        open_section(page, section)
    return page, frames


def _connected(frames) -> bool:
    return any(frame["type"] == "connected" for frame in frames)


def test_a_call_started_from_the_api_appears_runs_and_finishes_on_open_pages(browser, tenant, worker):
    task = tenant.task(name="Call Ana", to_number="+14155550199")
    tenant.task(name="Already done")  # so the overview has something to show before the call
    calls_page, call_frames = _open(browser, tenant, "Calls")
    tasks_page, _ = _open(browser, tenant, "Tasks")
    overview_page, _ = _open(browser, tenant, "Overview")

    # Nothing runs: no list polls; each page only holds its activity socket open.
    expect(calls_page.locator("#call-list")).to_have_attribute("hx-trigger", "activity from:body")
    expect(tasks_page.locator("#task-list")).to_have_attribute("hx-trigger", "activity from:body")
    expect(overview_page.locator("#overview-body")).to_have_attribute("hx-trigger", "activity from:body")
    expect(calls_page.get_by_role("heading", name="No calls yet")).to_be_visible()
    wait_until(lambda: _connected(call_frames), timeout=15, message="the activity socket")

    call_id = tenant.api.post(f"/tasks/{task['id']}/execute").get_json()["data"]["call_id"]

    row = calls_page.locator(f"#call-{call_id}")
    expect(row, "the new call appears on the open Calls page").to_be_attached(timeout=scaled(20_000))
    expect(row).to_contain_text("completed", timeout=scaled(60_000))
    expect(calls_page.locator("#call-list")).to_have_attribute("data-running", "false", timeout=scaled(15_000))
    statuses = [frame["data"]["status"] for frame in call_frames if frame["type"] == "activity"]
    assert statuses and statuses[-1] == "completed", statuses  # pushed while it ran, then at the end
    screenshot(calls_page, "calls-follow-api-call")

    task_row = tasks_page.get_by_role("row", name=re.compile("Call Ana"))
    expect(task_row).to_contain_text("completed", timeout=scaled(20_000))
    expect(task_row.get_by_role("link", name="View call")).to_be_visible()
    expect(tasks_page.locator("#task-list")).to_have_attribute("data-running", "false", timeout=scaled(15_000))

    calls_stat = overview_page.locator(".stat").filter(has=overview_page.get_by_text("Calls", exact=True))
    expect(calls_stat.locator(".stat-value")).to_have_text("1", timeout=scaled(20_000))
    expect(overview_page.locator("#overview-body")).to_have_attribute("data-running", "false", timeout=scaled(15_000))


def test_execute_in_the_task_list_keeps_the_list_current_until_the_call_ends(browser, tenant, worker):
    tenant.task(name="Call Jo", to_number="+14155550142")
    page, _ = _open(browser, tenant, "Tasks")
    row = page.get_by_role("row", name=re.compile("Call Jo"))
    expect(row).to_contain_text("pending")
    row.get_by_role("button", name="Execute Call Jo").click()
    expect(page.get_by_role("status")).to_have_text("Call started.")
    expect(row, "the row moves on to its end without a reload").to_contain_text("completed", timeout=scaled(60_000))
    expect(page.locator("#task-list")).to_have_attribute("data-running", "false", timeout=scaled(15_000))
    expect(row.get_by_role("button", name="Reset Call Jo to pending")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/tasks$"))
