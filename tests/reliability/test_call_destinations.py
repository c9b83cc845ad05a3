"""Toll fraud: numbers that cost the caller are refused, and calls go only to the organization's
allowed countries (default: the United States and Canada for the simulated provider)."""

import pytest
import sqlalchemy as sa

from tests.reliability.helpers import logged_in_client
from tests.support import csrf_from

COSTLY = [
    ("+19005550123", "premium-rate"),  # US 1-900
    ("+449012345678", "premium-rate"),  # UK 09
    ("+448712345678", "premium-rate"),  # UK 087
    ("+447012345678", "personal"),  # UK 070 "follow-me", charged at premium rates
]


def _task_count(db, org_id: str) -> int:
    db.session.remove()
    return db.session.execute(
        sa.text("SELECT count(*) FROM tasks WHERE organization_id = :o"), {"o": org_id}
    ).scalar_one()


@pytest.mark.parametrize(("number", "kind"), COSTLY)
def test_numbers_that_cost_the_caller_are_refused_with_a_clear_400(app, db, tenant, number, kind):
    browser, csrf = logged_in_client(app, tenant)
    assert (
        browser.put(
            f"/api/v1/organizations/{tenant.org_id}/allowed-countries",
            json={"allowed_countries": ["US", "GB"]},
            headers=csrf,
        ).status_code
        == 200
    )
    agent = tenant.agent()
    answer = tenant.api.post("/tasks", json={"agent_id": agent["id"], "name": "x", "to_number": number})
    assert answer.status_code == 400, answer.get_json()
    details = answer.get_json()["details"]
    assert list(details) == ["to_number"] and kind in details["to_number"] and "cost the caller" in details["to_number"]
    transfer = {"inputs": {"0": {"action": "transfer", "to_number": number}}}
    refused = tenant.api.post("/agents", json={"name": "a", "system_prompt": "b", "dtmf_rules": transfer})
    assert refused.status_code == 400 and "cost the caller" in str(refused.get_json()["details"])
    assert _task_count(db, tenant.org_id) == 0


def test_destinations_outside_the_allowed_countries_are_refused_until_allowed(app, db, tenant):
    agent = tenant.agent()
    london = {"agent_id": agent["id"], "name": "London", "to_number": "+442071234567"}
    jamaica = {"agent_id": agent["id"], "name": "Jamaica", "to_number": "+18762345678"}  # +1, but not US/CA
    for body in (london, jamaica):
        refused = tenant.api.post("/tasks", json=body)
        assert refused.status_code == 403
        assert "not allowed for this organization" in refused.get_json()["details"]["to_number"]
    assert _task_count(db, tenant.org_id) == 0
    assert tenant.api.post("/tasks", json={**london, "to_number": "+16135550123"}).status_code == 201  # Canada

    browser, csrf = logged_in_client(app, tenant)
    url = f"/api/v1/organizations/{tenant.org_id}/allowed-countries"
    assert browser.get(url).get_json()["data"] == {"allowed_countries": ["US", "CA"]}
    bad = browser.put(url, json={"allowed_countries": ["ZZ"]}, headers=csrf)
    assert bad.status_code == 400 and "allowed_countries" in bad.get_json()["details"]
    assert browser.put(url, json={"allowed_countries": ["us", "gb"]}, headers=csrf).get_json()["data"] == {
        "allowed_countries": ["US", "GB"]
    }
    task = tenant.api.post("/tasks", json=london)
    assert task.status_code == 201

    # Narrowed again: the pending task to London is refused at execute, nothing is dialled.
    page = browser.get("/settings").get_data(as_text=True)
    saved = browser.post(
        "/settings/allowed-countries", data={"allowed_countries": "US, CA", "csrf_token": csrf_from(page)}
    )
    assert saved.status_code == 200 and "Calls may go to US, CA" in saved.get_data(as_text=True)
    executed = tenant.api.post(f"/tasks/{task.get_json()['data']['id']}/execute")
    assert executed.status_code == 409 and "not allowed" in executed.get_json()["details"]["to_number"]
    db.session.remove()
    calls = db.session.execute(sa.text("SELECT count(*) FROM calls WHERE organization_id = :o"), {"o": tenant.org_id})
    assert calls.scalar_one() == 0


def test_only_owners_and_admins_change_the_allowed_countries(app, tenant, make_tenant):
    from tests.reliability.test_roles import join_as

    member_browser, member_csrf = join_as(app, tenant, "member")
    url = f"/api/v1/organizations/{tenant.org_id}/allowed-countries"
    assert member_browser.get(url).status_code == 200
    assert member_browser.put(url, json={"allowed_countries": ["GB"]}, headers=member_csrf).status_code == 403
    page = member_browser.get("/settings").get_data(as_text=True)
    assert (
        member_browser.post(
            "/settings/allowed-countries", data={"allowed_countries": "GB", "csrf_token": csrf_from(page)}
        ).status_code
        == 403
    )
    owner, _ = logged_in_client(app, tenant)
    assert owner.get(url).get_json()["data"]["allowed_countries"] == ["US", "CA"]


def test_campaign_rows_to_costly_numbers_or_other_countries_are_rejected(tenant):
    agent = tenant.agent()
    rows = [{"to_number": "+14155550123"}, {"to_number": "+442071234567"}, {"to_number": "+19005550123"}]
    answer = tenant.api.post("/campaigns", json={"name": "Abroad", "agent_id": agent["id"], "tasks": rows})
    assert answer.status_code == 201, answer.get_json()
    data = answer.get_json()["data"]
    assert data["accepted"] == 1
    rejected = {row["index"]: row for row in data["rejected"]}
    assert rejected[1]["reasons"] == ["not_allowed"] and "not allowed" in rejected[1]["details"]["not_allowed"]
    assert rejected[2]["reasons"] == ["not_allowed"] and "cost the caller" in rejected[2]["details"]["not_allowed"]
