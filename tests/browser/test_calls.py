"""Calls in a real browser, with the real worker: the live transcript over the API's WebSocket, then
playback that seeks from the transcript, the report, and the webhook delivery log."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_section, screenshot
from tests.emulators import WebhookReceiver
from tests.support import scaled, wait_until

pytestmark = pytest.mark.browser


def test_execute_a_task_and_watch_the_live_transcript(realtime_browser, tenant):
    """The call runs in real time on its own worker and stays live until the test ends it from the
    page, so the page always sees it live, however slow the machine."""
    tenant.agent(name="Delivery agent", starting_message="Hello {{customer_name}}, this is Acme about your order.")
    page = realtime_browser.new_page()
    log_in(page, tenant.email, tenant.password)
    open_section(page, "Tasks")
    page.get_by_role("link", name="Create a task").click()
    page.get_by_label("Task name").fill("Call Jane")
    page.get_by_label("Agent").select_option(label="Delivery agent")
    page.get_by_label("Phone number").fill("+14155550123")
    page.locator("#context-rows input[name=context_key]").fill("customer_name")
    page.locator("#context-rows input[name=context_value]").fill("Jane Roe")
    page.get_by_role("button", name="Create task").click()
    page.wait_for_url(re.compile(r"/tasks$"))
    row = page.get_by_role("row", name=re.compile("Call Jane"))
    expect(row).to_contain_text("pending")

    frames: list[dict] = []
    page.on("websocket", lambda socket: socket.on("framereceived", lambda payload: frames.append(json.loads(payload))))
    row.get_by_role("button", name="Execute Call Jane").click()
    expect(page.get_by_role("status")).to_have_text("Call started.")
    row.get_by_role("link", name="Watch call").click()
    expect(page).to_have_title("Call to +14155550123 · Voice agents")
    expect(page.locator("[data-live-call]"), "the live view of the call in progress").to_be_attached()

    live_turns = page.locator("[data-live-transcript] .turn")
    expect(live_turns.first).to_contain_text("Hello Jane Roe, this is Acme about your order.", timeout=scaled(60_000))
    wait_until(lambda: any(frame["type"] == "transcript_update" for frame in frames),
               message="a transcript update over the WebSocket")  # fmt: skip
    assert frames[0]["type"] == "connected"
    screenshot(page, "call-live", viewports=({"width": 1280, "height": 800},))

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="End call").click()
    expect(page.locator("audio#recording"), "the finished call replaces the live view").to_be_attached(
        timeout=scaled(60_000)
    )
    expect(page.locator("#call-status")).to_have_text("completed")
    call_id = page.url.rstrip("/").rsplit("/", 1)[-1]
    final = tenant.api.get(f"/calls/{call_id}").get_json()["data"]
    assert final["end_reason"] == "dashboard"  # ended from here, not through the API
    streamed = [frame for frame in frames if frame["type"] == "transcript_update"][-1]["data"]["transcript"]
    assert final["transcript"][: len(streamed)] == streamed  # the final transcript goes on from what was streamed
    expect(page.locator("ol.transcript .turn")).to_have_count(len(final["transcript"]))
    open_section(page, "Tasks")
    task_row = page.get_by_role("row", name=re.compile("Call Jane"))
    expect(task_row).to_contain_text("completed")
    task_row.get_by_role("button", name="Reset Call Jane to pending").click()
    expect(task_row).to_contain_text("pending")
    expect(task_row.get_by_role("link", name="View call")).to_be_visible()
    open_section(page, "Overview")
    calls_stat = page.locator(".stat").filter(has=page.get_by_text("Calls", exact=True))
    expect(calls_stat.locator(".stat-value")).to_have_text("1")
    success_stat = page.locator(".stat").filter(has=page.get_by_text("Success rate", exact=True))
    expect(success_stat.locator(".stat-value")).to_have_text(re.compile(r"^(0|100)%$"))
    expect(page.locator("svg.chart rect")).to_have_count(1)
    screenshot(page, "overview")


def test_the_call_list_follows_a_running_call_without_reloading(browser, tenant, db):
    """A call the provider has not placed yet stays active until the test finishes it through the
    engine, so the list is seen running, then updated in place by its polling."""
    from webapp.models import Call
    from webapp.services import engine
    from webapp.telephony.base import CallSnapshot

    task = tenant.task()
    call = Call(organization_id=tenant.org_id, task_id=task["id"], agent_id=task["agent_id"],
                to_number=task["to_number"], status="in_progress", provider="simulated")  # fmt: skip
    db.session.add(call)
    db.session.commit()
    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    open_section(page, "Calls")
    row = page.locator(f"#call-{call.id}")
    expect(row).to_contain_text("in progress")
    expect(page.locator("#call-list")).to_have_attribute("data-running", "true")
    screenshot(page, "calls-running")

    engine.apply_snapshot(call, CallSnapshot(status="completed", end_reason="ended_by_agent", duration_seconds=12.0))
    expect(row).to_contain_text("completed", timeout=scaled(10_000))
    expect(row).to_contain_text("12 s")
    expect(page.locator("#call-list")).to_have_attribute("data-running", "false")  # polling stops
    expect(page.locator("#call-list")).to_have_attribute("hx-trigger", "activity from:body")
    expect(page).to_have_url(re.compile(r"/calls$"))


def _finished_call(tenant, agent_id: str, **task_fields) -> str:
    task = tenant.task(agent_id, **task_fields)
    call_id = tenant.api.post(f"/tasks/{task['id']}/execute").get_json()["data"]["call_id"]
    wait_until(lambda: tenant.api.get(f"/calls/{call_id}/recording").status_code == 200, timeout=60,
               message="the call to end and its recording to be stored")  # fmt: skip
    return call_id


def test_play_the_recording_from_a_transcript_line_and_see_webhook_attempts(browser, tenant, worker):
    agent = tenant.agent(starting_message="Hi {{customer_name}}, Acme here about order {{order_id}}.")
    with WebhookReceiver() as receiver:
        receiver.fail_next(503)  # the first attempt fails, the retry is delivered
        call_id = _finished_call(tenant, agent["id"], webhook_url=f"{receiver.url}/hooks",
                                 webhook_events=["call_completed"])  # fmt: skip
        wait_until(lambda: len(receiver.requests) >= 2, timeout=30, message="the webhook retry")

    page = browser.new_page()
    recording_responses = []
    page.on("response", lambda response: "/recording" in response.url and recording_responses.append(response.status))
    log_in(page, tenant.email, tenant.password)
    open_section(page, "Calls")
    page.get_by_role("link", name="+14155550123").click()
    expect(page).to_have_url(re.compile(f"/calls/{call_id}$"))

    audio = page.locator("audio#recording")
    page.wait_for_function("document.querySelector('audio#recording').readyState >= 1")
    lines = page.locator("ol.transcript .turn")
    expect(lines.first).to_contain_text("Hi Jane Roe, Acme here about order A-1001.")
    third = lines.nth(2)
    start = float(third.get_attribute("data-start"))
    third.locator("p").click()
    page.wait_for_function(
        "([start]) => { const a = document.querySelector('audio#recording');"
        " return a.currentTime >= start - 0.05 && a.currentTime < start + 1.5; }",
        arg=[start],
    )
    expect(third).to_have_class(re.compile(r"\bis-playing\b"))
    expect(lines.locator(".is-playing")).to_have_count(0)
    expect(page.locator("ol.transcript .turn.is-playing")).to_have_count(1)
    page.wait_for_function(
        "([start]) => document.querySelector('audio#recording').currentTime > start + 0.2", arg=[start]
    )  # it plays on from there
    audio.evaluate("element => element.pause()")
    assert 206 in recording_responses, recording_responses  # the player seeks with Range requests

    report = page.get_by_role("region", name="Report")
    expect(report.locator("p").first).to_contain_text("Jane Roe")  # the summary
    expect(report.get_by_role("term").first).to_have_text("Outcome")
    expect(report.get_by_role("definition").first).not_to_be_empty()
    deliveries = page.get_by_role("region", name="Webhook deliveries")
    expect(deliveries).to_contain_text("call completed")
    expect(deliveries).to_contain_text("delivered")
    attempts = deliveries.locator("ol.attempts li")
    expect(attempts).to_have_count(2)
    expect(attempts.nth(0)).to_contain_text("HTTP 503")
    expect(attempts.nth(1)).to_contain_text("HTTP 200")
    screenshot(page, "call-finished")
