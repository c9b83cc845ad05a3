"""A report's extracted data reads as a labelled table (dates as dates, yes/no, amounts), with what
was said on demand and the raw JSON behind a toggle."""

from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, screenshot

pytestmark = pytest.mark.browser

EXTRACTED = {
    "answers": [{"question": "Can we deliver tomorrow?", "answer": "Yes, tomorrow works.", "value": "yes",
                 "at_seconds": 5.0}],
    "datetimes": [{"text": "tomorrow", "type": "relative", "phrase": "tomorrow", "days_from_call": 1},
                  {"text": "at 3pm", "type": "time", "hour": 15, "minute": 0, "value": "15:00"}],
    "amounts": [{"text": "1,200 dollars", "amount": 1200.0, "currency": "USD"}],
    "callback_requests": [], "opt_outs": [], "emails": ["jane@example.com"], "phone_numbers": [],
    "dtmf": {"digits": "1", "presses": [{"digit": "1", "action": "confirm", "label": "confirmed"}]},
    "contact_name": "Jane",
}  # fmt: skip


def test_extracted_data_is_a_table_people_read(browser, tenant, db):
    from webapp.models import Call

    task = tenant.task()
    answered = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # a Monday
    call = Call(organization_id=tenant.org_id, task_id=task["id"], agent_id=task["agent_id"],
                to_number=task["to_number"], status="completed", end_reason="ended_by_agent", provider="simulated",
                answered_at=answered, ended_at=answered, finalized_at=answered,
                report={"summary": "Reached Jane.", "outcome": "confirmed", "call_successful": True,
                        "extracted_data": EXTRACTED, "metrics": {"duration_seconds": 40, "turns": 6,
                        "agent_talk_seconds": 20, "user_talk_seconds": 10}, "source": "local"})  # fmt: skip
    db.session.add(call)
    db.session.commit()

    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    page.goto(f"/calls/{call.id}")
    report = page.get_by_role("region", name="Report")
    table = report.locator("table.facts-table")

    def row(label: str):
        return table.locator("tr").filter(has=page.get_by_role("rowheader", name=label, exact=True))

    expect(row("Can we deliver tomorrow?").locator("td")).to_contain_text("Yes")
    expect(row("Date mentioned").locator("td")).to_contain_text("Tue, Mar 3, 2026")
    expect(row("Time mentioned").locator("td")).to_contain_text("3:00 PM")
    expect(row("Amount mentioned").locator("td")).to_contain_text("$1,200")
    expect(row("Keys pressed").locator("td")).to_have_text("1 (confirmed)")
    expect(row("Email address").locator("td")).to_have_text("jane@example.com")
    expect(table).not_to_contain_text("days from call")  # no raw field names

    said = row("Amount mentioned").locator("details.said")
    expect(said.locator("q")).to_be_hidden()
    said.locator("summary").click()
    expect(said.locator("q")).to_have_text("1,200 dollars")

    raw = report.locator("details.raw-data")
    expect(raw.locator("pre")).to_be_hidden()
    raw.get_by_text("Show raw data").click()
    expect(raw.locator("pre")).to_contain_text('"days_from_call": 1')
    screenshot(page, "call-report-facts")
