"""The organization's time zone, set in Settings: a report's dates are days in that zone (named on
the page), while times stay in the viewer's own zone with the zone shown, and the organization's
time on hover."""

import re
from datetime import UTC, datetime

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_section, screenshot

pytestmark = pytest.mark.browser

TOMORROW = {"datetimes": [{"text": "tomorrow", "type": "relative", "phrase": "tomorrow", "days_from_call": 1}]}


def _answered_call(db, tenant, answered: datetime) -> str:
    from webapp.models import Call

    task = tenant.task()
    call = Call(organization_id=tenant.org_id, task_id=task["id"], agent_id=task["agent_id"],
                to_number=task["to_number"], status="completed", end_reason="ended_by_agent", provider="simulated",
                created_at=answered, answered_at=answered, ended_at=answered, finalized_at=answered,
                report={"summary": "Reached Jane.", "outcome": "confirmed", "call_successful": True,
                        "extracted_data": TOMORROW, "metrics": {"duration_seconds": 40, "turns": 6,
                        "agent_talk_seconds": 20, "user_talk_seconds": 10}, "source": "local"})  # fmt: skip
    db.session.add(call)
    db.session.commit()
    return call.id


def test_a_report_counts_dates_from_the_day_of_the_call_in_the_organizations_zone(browser, tenant, db):
    # Monday 23:30 in UTC is already Tuesday 12:30 in Auckland: "tomorrow" is Tuesday in UTC,
    # Wednesday for an organization in New Zealand.
    call_id = _answered_call(db, tenant, datetime(2026, 3, 2, 23, 30, tzinfo=UTC))
    page = browser.new_page(timezone_id="America/New_York", locale="en-US")
    log_in(page, tenant.email, tenant.password)

    page.goto(f"/calls/{call_id}")
    report = page.get_by_role("region", name="Report")
    date_row = report.locator("table.facts-table tr").filter(has=page.get_by_role("rowheader", name="Date mentioned"))
    expect(date_row.locator("td")).to_contain_text("Tue, Mar 3, 2026")
    expect(report).to_contain_text("Mon, Mar 2, 2026 in UTC, the organization's time zone")

    open_section(page, "Settings")
    regional = page.get_by_role("region", name="Time zone and phone numbers")
    browser.expect_http_error(400)
    regional.get_by_label("Time zone").fill("Middle-earth/Shire")
    regional.get_by_role("button", name="Save").click()
    expect(regional.get_by_text(re.compile("Must be an IANA time zone name"))).to_be_visible()
    regional.get_by_label("Time zone").fill("pacific/auckland")
    regional.get_by_label("Default country for phone numbers").select_option("NZ")
    regional.get_by_role("button", name="Save").click()
    expect(page.get_by_role("status")).to_have_text(
        "Time zone Pacific/Auckland; numbers without a country code are read as NZ numbers."
    )
    expect(regional.get_by_label("Time zone")).to_have_value("Pacific/Auckland")
    screenshot(page, "settings-time-zone")

    page.goto(f"/calls/{call_id}")
    expect(date_row.locator("td")).to_contain_text("Wed, Mar 4, 2026")
    expect(report).to_contain_text("Tue, Mar 3, 2026 in Pacific/Auckland, the organization's time zone")
    answered = page.locator("dt:text-is('Answered') + dd time")
    expect(answered).to_have_text("Mar 2, 2026, 6:30 PM EST")  # the viewer's zone, named
    expect(answered).to_have_attribute("title", re.compile(r"Mar 3, 2026, 12:30 PM GMT\+13 \(Pacific/Auckland"))
    screenshot(page, "call-report-dates-in-org-zone")
