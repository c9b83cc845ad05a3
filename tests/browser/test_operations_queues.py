"""Settings → Queues: owners and admins see the deployment's queues and live workers (counts only,
no other tenant's job data); members are refused."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import log_in, open_section, screenshot
from tests.support import scaled

pytestmark = pytest.mark.browser


def test_admins_see_queues_and_workers_members_do_not(browser, tenant, worker):
    from webapp.services import orgs

    _, token = orgs.invite(tenant.org_id, "member-queues@example.com", "member", tenant.owner.id)
    orgs.accept_invite(token, name="Mia Member", password="member-password-1")

    page = browser.new_page()
    log_in(page, tenant.email, tenant.password)
    open_section(page, "Settings")
    page.get_by_role("link", name="See queues and workers").click()
    expect(page).to_have_url(re.compile(r"/operations/queues$"))
    for name in ("sync", "calls", "webhooks", "default"):
        expect(page.locator(f'tr[data-queue="{name}"]')).to_be_visible()
    workers = page.locator("tr[data-worker]")
    # The page refreshes itself every 5 s: it shows the worker once that has booted and registered.
    expect(workers.first, "the running worker, with a fresh heartbeat").to_contain_text(
        re.compile(r"\d+ s ago"), timeout=scaled(90_000)
    )
    screenshot(page, "operations-queues")

    member = browser.new_page()
    browser.expect_http_error(403)
    log_in(member, "member-queues@example.com", "member-password-1")
    response = member.goto("/operations/queues")
    assert response.status == 403
    open_section(member, "Settings")
    expect(member.get_by_role("link", name="See queues and workers")).to_have_count(0)
