"""Campaign API: creation with per-row checks, bad input, counters, lifecycle, do-not-call list."""

import pytest

NY, SYDNEY = "+12125550123", "+61291234567"


def allow_australia(tenant) -> None:
    """Sydney is outside the default allowed countries (US, CA)."""
    from webapp.services import destinations

    destinations.set_allowed_countries(tenant.org_id, ["US", "CA", "AU"])


WINDOW = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "09:00", "end": "20:00"}


def campaign_body(agent_id: str, **overrides) -> dict:
    return {
        "name": "Renewals",
        "agent_id": agent_id,
        "calling_window": WINDOW,
        "max_concurrent_calls": 5,
        "max_attempts": 3,
        "retry_on": ["no_answer", "busy"],
        "backoff_minutes": 30,
        "tasks": [{"to_number": NY, "context_data": {"customer_name": "Jane"}}],
        **overrides,
    }


def create(tenant, body) -> dict:
    response = tenant.api.post("/campaigns", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["data"]


def test_rows_are_checked_one_by_one(tenant):
    allow_australia(tenant)
    agent = tenant.agent(starting_message="Hello {{customer_name}}, about order {{order_id}}.")
    tenant.api.post("/dnc", json={"number": "+12125550199", "reason": "asked"})
    rows = [
        {"to_number": NY, "context_data": {"customer_name": "Jane", "order_id": "A1"}},
        {"to_number": "12345", "context_data": {"customer_name": "X", "order_id": "A2"}},
        {"to_number": "+12125550199", "context_data": {"customer_name": "Y", "order_id": "A3"}},
        {"to_number": NY, "context_data": {"customer_name": "Jane again", "order_id": "A4"}},
        {"to_number": SYDNEY, "context_data": {"customer_name": "Bruce"}},
        {"to_number": "+19005550123", "context_data": {"customer_name": "Z", "order_id": "A5"}},
        {"to_number": "+14155550123", "context_data": {"customer_name": "Q", "order_id": "A6"}, "priority": "high"},
        "not an object",
    ]
    data = create(tenant, campaign_body(agent["id"], tasks=rows))
    assert data["accepted"] == 1
    reasons = {row["index"]: row["reasons"] for row in data["rejected"]}
    assert reasons == {
        1: ["invalid_number"],
        2: ["do_not_call"],
        3: ["duplicate_number"],
        4: ["missing_variables"],
        5: ["not_allowed"],
        6: ["invalid_row"],
        7: ["invalid_row"],
    }
    assert "order_id" in data["rejected"][3]["details"]["missing_variables"]
    assert data["status"] == "draft" and data["counters"]["total"] == 1 and data["counters"]["pending"] == 1
    tasks = tenant.api.get(f"/tasks?campaign_id={data['id']}").get_json()
    assert [task["to_number"] for task in tasks["data"]] == [NY]
    assert tasks["data"][0]["campaign_id"] == data["id"] and tasks["data"][0]["attempt_count"] == 0


def test_more_rows_in_pages_never_duplicate_a_number(tenant):
    allow_australia(tenant)
    agent = tenant.agent()
    campaign = create(tenant, campaign_body(agent["id"]))
    response = tenant.api.post(
        f"/campaigns/{campaign['id']}/tasks",
        json={"tasks": [{"to_number": NY}, {"to_number": SYDNEY}, {"to_number": SYDNEY}]},
    )
    assert response.status_code == 201, response.get_json()
    data = response.get_json()["data"]
    assert data["accepted"] == 1
    assert [(row["index"], row["reasons"]) for row in data["rejected"]] == [
        (0, ["duplicate_number"]),
        (2, ["duplicate_number"]),
    ]
    assert data["counters"]["total"] == 2


def _count_campaigns(tenant) -> int:
    return tenant.api.get("/campaigns").get_json()["meta"]["pagination"]["total"]


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"calling_window": {"days": ["mon"], "start": "25:00", "end": "26:00"}},
         ["calling_window.start", "calling_window.end"]),
        ({"calling_window": {"days": ["mon"], "start": "18:00", "end": "09:00"}}, ["calling_window"]),
        ({"calling_window": {"days": ["mon", "funday"], "start": "09:00", "end": "17:00"}}, ["calling_window.days"]),
        ({"max_concurrent_calls": 0, "max_attempts": -1}, ["max_concurrent_calls", "max_attempts"]),
        ({"max_concurrent_calls": -5, "backoff_minutes": -1}, ["max_concurrent_calls", "backoff_minutes"]),
    ],
)  # fmt: skip
def test_bad_campaigns_name_each_field_and_store_nothing(tenant, overrides, fields):
    agent = tenant.agent()
    before = _count_campaigns(tenant)
    response = tenant.api.post("/campaigns", json=campaign_body(agent["id"], **overrides))
    assert response.status_code == 400, response.get_json()
    details = response.get_json()["details"]
    for field in fields:
        assert any(key == field or key.startswith(field + ".") for key in details), (field, details)
    assert _count_campaigns(tenant) == before


def test_a_10001_row_upload_is_refused_whole(tenant):
    agent = tenant.agent()
    before = _count_campaigns(tenant)
    rows = [{"to_number": f"+1212555{i:04d}"} for i in range(10_001)]
    response = tenant.api.post("/campaigns", json=campaign_body(agent["id"], tasks=rows))
    assert response.status_code == 400
    assert "tasks" in response.get_json()["details"]
    assert _count_campaigns(tenant) == before


def test_10000_rows_in_one_request(tenant):
    agent = tenant.agent()
    rows = [{"to_number": f"+1212{i // 10000 + 555}{i % 10000:04d}"} for i in range(10_000)]
    data = create(tenant, campaign_body(agent["id"], tasks=rows))
    assert data["accepted"] == 10_000 and data["rejected"] == []
    assert data["counters"]["pending"] == 10_000


def test_lifecycle_and_patch(tenant):
    agent = tenant.agent()
    campaign = create(tenant, campaign_body(agent["id"], start_at="2099-01-01T00:00:00Z"))
    cid = campaign["id"]
    assert tenant.api.post(f"/campaigns/{cid}/pause").status_code == 409
    started = tenant.api.post(f"/campaigns/{cid}/start").get_json()["data"]
    assert started["status"] == "running" and started["started_at"]
    patched = tenant.api.patch(f"/campaigns/{cid}", json={"max_concurrent_calls": 7, "name": "Renewals 2"})
    assert patched.status_code == 200 and patched.get_json()["data"]["max_concurrent_calls"] == 7
    bad = tenant.api.patch(f"/campaigns/{cid}", json={"max_concurrent_calls": 0})
    assert bad.status_code == 400 and "max_concurrent_calls" in bad.get_json()["details"]
    assert tenant.api.post(f"/campaigns/{cid}/pause").get_json()["data"]["status"] == "paused"
    assert tenant.api.post(f"/campaigns/{cid}/resume").get_json()["data"]["status"] == "running"
    cancelled = tenant.api.post(f"/campaigns/{cid}/cancel").get_json()["data"]
    assert cancelled["status"] == "cancelled" and cancelled["counters"]["failed"] == 1
    task = tenant.api.get(f"/tasks?campaign_id={cid}").get_json()["data"][0]
    assert task["status"] == "failed" and task["status_reason"] == "campaign_cancelled"
    assert tenant.api.post(f"/campaigns/{cid}/resume").status_code == 409
    listed = tenant.api.get("/campaigns?status=cancelled").get_json()["data"]
    assert [c["id"] for c in listed] == [cid]


def test_other_organizations_campaigns_are_404(tenant, other_tenant):
    campaign = create(tenant, campaign_body(tenant.agent()["id"]))
    for method, path in (("GET", ""), ("POST", "/start"), ("POST", "/cancel"), ("PATCH", "")):
        response = other_tenant.api.request(
            method, f"/campaigns/{campaign['id']}{path}", json={} if method == "PATCH" else None
        )
        assert response.status_code == 404, (method, path)
    assert other_tenant.api.get(f"/tasks?campaign_id={campaign['id']}").get_json()["data"] == []
    other_agent = other_tenant.agent()
    response = tenant.api.post("/campaigns", json=campaign_body(other_agent["id"]))
    assert response.status_code == 404 and "agent_id" in response.get_json()["details"]


def test_dnc_list(tenant, other_tenant):
    task = tenant.task(to_number="+12125550142")
    response = tenant.api.post("/dnc", json={"number": "+1 212 555 0142", "reason": "asked by email"})
    assert response.status_code == 400  # E.164 only
    response = tenant.api.post("/dnc", json={"number": "+12125550142", "reason": "asked by email"})
    assert response.status_code == 201, response.get_json()
    entry = response.get_json()["data"]
    assert entry["source"] == "api" and entry["reason"] == "asked by email"
    assert tenant.api.post("/dnc", json={"number": "+12125550142"}).status_code == 409
    skipped = tenant.api.get(f"/tasks/{task['id']}").get_json()["data"]
    assert skipped["status"] == "skipped" and skipped["status_reason"] == "do_not_call"
    assert tenant.api.get("/dnc?number=%2B12125550142").get_json()["meta"]["pagination"]["total"] == 1
    assert other_tenant.api.get("/dnc").get_json()["data"] == []
    assert other_tenant.api.delete(f"/dnc/{entry['id']}").status_code == 404
    assert tenant.api.delete("/dnc/+12125550142").status_code == 200
    assert tenant.api.get("/dnc").get_json()["data"] == []


def test_execute_beyond_the_org_cap_is_queued_not_refused(tenant, logged_in, client):
    """The owner lowers the cap in Settings (PATCH /organizations/:id); a second execute then waits."""
    response = client.patch(f"/api/v1/organizations/{tenant.org_id}", json={"max_concurrent_calls": 1},
                            headers={"X-CSRFToken": logged_in})  # fmt: skip
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["data"]["max_concurrent_calls"] == 1
    agent = tenant.agent()
    first, second = (tenant.task(agent["id"], to_number=number) for number in ("+14155550101", "+14155550102"))
    placed = tenant.api.post(f"/tasks/{first['id']}/execute").get_json()["data"]
    assert placed["call_id"] and placed["message"] == "Call initiated"
    queued = tenant.api.post(f"/tasks/{second['id']}/execute")
    assert queued.status_code == 200
    assert queued.get_json()["data"]["queued"] is True and queued.get_json()["data"]["call_id"] is None
    task = tenant.api.get(f"/tasks/{second['id']}").get_json()["data"]
    assert (task["status"], task["status_reason"]) == ("pending", "queued")
    again = tenant.api.post(f"/tasks/{second['id']}/execute")
    assert again.status_code == 409


def test_single_tasks_respect_the_do_not_call_list(app, tenant):
    from webapp.extensions import db
    from webapp.models import DncEntry

    agent = tenant.agent()
    tenant.api.post("/dnc", json={"number": "+12125550171"})
    refused = tenant.api.post("/tasks", json={"agent_id": agent["id"], "name": "X", "to_number": "+12125550171"})
    assert refused.status_code == 409 and "to_number" in refused.get_json()["details"]
    task = tenant.task(agent["id"], to_number="+12125550172")
    moved = tenant.api.patch(f"/tasks/{task['id']}", json={"to_number": "+12125550171"})
    assert moved.status_code == 409 and "to_number" in moved.get_json()["details"]
    db.session.add(DncEntry(organization_id=tenant.org_id, number="+12125550172", source="import"))
    db.session.commit()  # listed behind the API's back: caught at execute
    response = tenant.api.post(f"/tasks/{task['id']}/execute")
    assert response.status_code == 409
    detail = tenant.api.get(f"/tasks/{task['id']}").get_json()["data"]
    assert (detail["status"], detail["status_reason"], detail["attempts"]) == ("skipped", "do_not_call", [])
