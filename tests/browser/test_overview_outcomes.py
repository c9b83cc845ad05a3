"""The overview counts calls by what they mean, each group with its definition on hover, and the
success rate is of the calls that reached someone (an opt-out is completed but not a success)."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, screenshot

pytestmark = pytest.mark.browser

ENDINGS = [  # status, failure_reason, report outcome, call_successful
    ("completed", None, "confirmed", True),
    ("completed", None, "declined", False),
    ("completed", None, "opted_out", False),
    ("failed", "voicemail", "voicemail", False),
    ("failed", "no_answer", "no_answer", False),
    ("failed", "busy", "busy", False),
    ("failed", "dropped", "dropped", False),
]


def test_overview_shows_outcomes_by_meaning_with_definitions(browser, tenant, db):
    from webapp.models import Call, utcnow

    task = tenant.task()
    for status, reason, outcome, successful in ENDINGS:
        db.session.add(Call(organization_id=tenant.org_id, task_id=task["id"], agent_id=task["agent_id"],
                            to_number=task["to_number"], status=status, failure_reason=reason, provider="simulated",
                            ended_at=utcnow(), finalized_at=utcnow(),
                            report={"outcome": outcome, "call_successful": successful}))  # fmt: skip
    db.session.commit()

    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    expected = {"successful": 1, "unsuccessful": 1, "opted_out": 1, "voicemail": 1, "no_answer": 2, "failed": 1}
    for key, count in expected.items():
        expect(page.locator(f'[data-outcome="{key}"] .count')).to_have_text(str(count))
    reached = page.locator('[data-outcome="unsuccessful"] .definition')
    expect(reached).to_have_text("Reached, not successful")
    expect(reached).to_have_attribute("title", "Someone answered but the goal was not reached: they declined, "
                                               "or never said anything useful.")  # fmt: skip
    opted_out = page.locator('[data-outcome="opted_out"] .definition')
    assert "not to be called again" in opted_out.get_attribute("title")
    expect(page.get_by_role("term").filter(has_text="Opted out")).to_be_visible()
    opted_out.focus()  # keyboard users reach the definition too (aria-describedby)
    assert "not to be called again" in page.evaluate(
        "() => document.getElementById(document.activeElement.getAttribute('aria-describedby')).textContent"
    )
    # 1 success among the 3 calls that reached someone (the opt-out among them, though completed).
    success = page.locator(".stat").filter(has=page.get_by_text("Success rate", exact=True))
    expect(success.locator(".stat-value")).to_have_text("33%")
    expect(success.locator(".stat-note")).to_have_text("of 3 calls that reached someone")
    opted_out.hover()
    screenshot(page, "overview-outcomes")
