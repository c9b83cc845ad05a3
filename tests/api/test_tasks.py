"""/api/v1/tasks: filters, field validation (E.164, webhook URL, events, schedule, priority,
context), the agent summary, and the status rules for update and delete."""

import pytest

from tests.api.helpers import allow_countries, assert_error, assert_ok, assert_page


def _body(agent_id: str, **fields) -> dict:
    return {"agent_id": agent_id, "name": "Call Jane", "to_number": "+14155550123", **fields}


@pytest.fixture
def agent(tenant):
    return tenant.agent()


def test_list_filters_by_agent_and_status_and_pages(tenant, db):
    from webapp.models import Task

    first, second = tenant.agent(name="First"), tenant.agent(name="Second")
    mine = [tenant.task(first["id"], name=f"T{n}") for n in range(3)]
    other = tenant.task(second["id"])
    db.session.get(Task, other["id"]).status = "failed"
    db.session.commit()

    assert_page(tenant.api.get("/tasks"), total=4, limit=50, offset=0, has_more=False)
    by_agent = assert_page(tenant.api.get(f"/tasks?agent_id={first['id']}"), total=3, limit=50, offset=0,
                           has_more=False)  # fmt: skip
    assert {t["id"] for t in by_agent} == {t["id"] for t in mine}
    failed = assert_page(tenant.api.get("/tasks?status=failed"), total=1, limit=50, offset=0, has_more=False)
    assert [t["id"] for t in failed] == [other["id"]]
    assert_page(tenant.api.get(f"/tasks?status=failed&agent_id={first['id']}"), total=0, limit=50, offset=0,
                has_more=False)  # fmt: skip
    page = assert_page(tenant.api.get("/tasks?limit=3&offset=1"), total=4, limit=3, offset=1, has_more=False)
    assert len(page) == 3
    assert_page(tenant.api.get("/tasks?limit=3"), total=4, limit=3, offset=0, has_more=True)


def test_list_refuses_an_unknown_status(tenant):
    _, details = assert_error(tenant.api.get("/tasks?status=done"), 400)
    assert list(details) == ["status"]


def test_create_returns_the_task_with_its_agent_summary(tenant, agent):
    body = _body(agent["id"], description="Follow up", starting_message="Hi Jane", priority=5,
                 context_data={"customer_name": "Jane"}, webhook_url="https://hooks.example.com/voice",
                 webhook_events=["call_started", "call_failed"], scheduled_at="2030-01-01T09:00:00+02:00")  # fmt: skip
    created = assert_ok(tenant.api.post("/tasks", json=body), 201)
    assert created["status"] == "pending" and created["last_call_id"] is None
    assert created["agent"] == {"id": agent["id"], "name": agent["name"], "enabled": True}
    assert created["scheduled_at"] == "2030-01-01T07:00:00Z"
    for field in ("description", "starting_message", "priority", "context_data", "webhook_url", "webhook_events"):
        assert created[field] == body[field]
    fetched = assert_ok(tenant.api.get(f"/tasks/{created['id']}"))
    assert fetched == created


def test_get_of_an_unknown_task_is_404(tenant):
    error, _ = assert_error(tenant.api.get("/tasks/00000000-0000-0000-0000-000000000000"), 404)
    assert error == "Task not found"


@pytest.mark.parametrize("missing", ["agent_id", "name", "to_number"])
def test_create_requires_agent_name_and_number(tenant, agent, missing):
    body = {k: v for k, v in _body(agent["id"]).items() if k != missing}
    _, details = assert_error(tenant.api.post("/tasks", json=body), 400)
    assert details == {missing: "is required"}


def test_create_refuses_an_agent_of_no_one(tenant):
    _, details = assert_error(tenant.api.post("/tasks", json=_body("no-such-agent")), 404)
    assert details == {"agent_id": "no such agent in your organization"}


@pytest.mark.parametrize(("number", "reason"), [
    ("+1234567890", "wrong number of digits"),
    ("+15551234567", "not an assigned number range"),
    ("14155550123", "E.164"),
    ("+1 415 555 0123", "E.164"),
    ("+44 20 7123 4567", "E.164"),
    ("", "E.164"),
])  # fmt: skip
def test_phone_numbers_must_be_valid_e164_and_the_error_says_why(tenant, agent, number, reason):
    _, details = assert_error(tenant.api.post("/tasks", json=_body(agent["id"], to_number=number)), 400)
    assert list(details) == ["to_number"]
    assert reason in details["to_number"]


@pytest.mark.parametrize("number", ["+442071234567", "+14155550123", "+33142685300"])
def test_valid_phone_numbers_are_accepted(tenant, agent, number):
    allow_countries(tenant, "US", "GB", "FR")
    assert assert_ok(tenant.api.post("/tasks", json=_body(agent["id"], to_number=number)), 201)["to_number"] == number


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/voice?x=1",
    "http://127.0.0.1:9000/hooks",
    "http://localhost:8080/hooks",
    "https://[::1]/hooks",
])  # fmt: skip
def test_webhook_url_https_or_loopback_http_is_accepted(tenant, agent, url):
    created = assert_ok(tenant.api.post("/tasks", json=_body(agent["id"], webhook_url=url)), 201)
    assert created["webhook_url"] == url


@pytest.mark.parametrize(("url", "reason"), [
    ("http://hooks.example.com/voice", "must use https"),
    ("http://10.1.2.3/hooks", "must use https"),
    ("https://10.1.2.3/hooks", "non-public address 10.1.2.3"),
    ("https://192.168.0.10/hooks", "non-public address"),
    ("https://172.16.5.4/hooks", "non-public address"),
    ("https://169.254.169.254/latest/meta-data", "link-local address 169.254.169.254"),
    ("https://[fe80::1]/hooks", "link-local"),
    ("https://[fd00::1]/hooks", "non-public address"),
    ("https://[::ffff:10.0.0.1]/hooks", "non-public address"),
    ("https://100.100.100.200/latest/meta-data", "non-public address"),
    ("https://0.0.0.0/hooks", "non-public address"),
    ("ftp://hooks.example.com/voice", "https://"),
    ("hooks.example.com/voice", "https://"),
    ("https://user:secret@hooks.example.com/voice", "credentials"),
])  # fmt: skip
def test_webhook_url_refuses_private_link_local_and_plain_http(tenant, agent, url, reason):
    _, details = assert_error(tenant.api.post("/tasks", json=_body(agent["id"], webhook_url=url)), 400)
    assert list(details) == ["webhook_url"]
    assert reason in details["webhook_url"]


def test_webhook_events_must_come_from_the_enum(tenant, agent):
    body = _body(agent["id"], webhook_events=["call_started", "call_answered"])
    _, details = assert_error(tenant.api.post("/tasks", json=body), 400)
    assert list(details) == ["webhook_events.1"]
    assert "call_completed" in details["webhook_events.1"]
    body = _body(agent["id"], webhook_events=["call_completed", "call_completed", "call_failed"])
    assert assert_ok(tenant.api.post("/tasks", json=body), 201)["webhook_events"] == ["call_completed", "call_failed"]


@pytest.mark.parametrize(("value", "reason"), [
    ("2030-01-01T09:00:00", "time zone"),
    ("next tuesday", "datetime"),
    ("2030-13-01T09:00:00Z", "datetime"),
    ("0001-01-01T00:00:00+01:00", "outside the supported date range"),
])  # fmt: skip
def test_scheduled_at_needs_iso8601_with_a_time_zone(tenant, agent, value, reason):
    _, details = assert_error(tenant.api.post("/tasks", json=_body(agent["id"], scheduled_at=value)), 400)
    assert list(details) == ["scheduled_at"]
    assert reason in details["scheduled_at"]


def test_scheduled_at_may_be_null_or_utc(tenant, agent):
    assert assert_ok(tenant.api.post("/tasks", json=_body(agent["id"], scheduled_at=None)), 201)["scheduled_at"] is None
    created = assert_ok(tenant.api.post("/tasks", json=_body(agent["id"], scheduled_at="2031-06-01T12:30:00Z")), 201)
    assert created["scheduled_at"] == "2031-06-01T12:30:00Z"


def test_a_whole_number_written_with_a_fraction_is_an_integer(tenant, agent):
    assert assert_ok(tenant.api.post("/tasks", json=_body(agent["id"], priority=53.0)), 201)["priority"] == 53


@pytest.mark.parametrize("priority", ["high", 1.5, True, None, 10_000_000])
def test_priority_must_be_a_bounded_integer(tenant, agent, priority):
    _, details = assert_error(tenant.api.post("/tasks", json=_body(agent["id"], priority=priority)), 400)
    assert list(details) == ["priority"]


def test_context_data_must_be_a_small_shallow_object(tenant, agent):
    def refused(context):
        _, details = assert_error(tenant.api.post("/tasks", json=_body(agent["id"], context_data=context)), 400)
        assert list(details) == ["context_data"]
        return details["context_data"]

    assert "should be an object" in refused(["not", "an", "object"])
    assert "at most 16384 bytes" in refused({"notes": "x" * 17000})
    deep: dict = {"leaf": 1}
    for _ in range(10):
        deep = {"nested": deep}
    assert "nested deeper than 8 levels" in refused(deep)
    fine = {"customer": {"name": "Jane", "orders": [{"id": "A-1", "items": [1, 2]}]}, "vip": True}
    assert assert_ok(tenant.api.post("/tasks", json=_body(agent["id"], context_data=fine)), 201)["context_data"] == fine


def test_update_changes_a_pending_task_and_validates(tenant, agent):
    task = tenant.task(agent["id"])
    allow_countries(tenant, "US", "GB")
    updated = assert_ok(tenant.api.patch(f"/tasks/{task['id']}", json={"to_number": "+442071234567", "priority": 3}))
    assert updated["to_number"] == "+442071234567" and updated["priority"] == 3
    assert updated["name"] == task["name"] and updated["context_data"] == task["context_data"]
    for bad in ({"to_number": "+1234567890"}, {"webhook_url": "http://example.com"}, {"status": "completed"},
                {"agent_id": agent["id"]}, {"name": None}):  # fmt: skip
        _, details = assert_error(tenant.api.patch(f"/tasks/{task['id']}", json=bad), 400)
        assert list(details) == list(bad)
    assert assert_ok(tenant.api.get(f"/tasks/{task['id']}")) == updated


def test_delete_removes_a_pending_task(tenant, agent):
    task = tenant.task(agent["id"])
    assert assert_ok(tenant.api.delete(f"/tasks/{task['id']}")) == {"id": task["id"], "deleted": True}
    assert_error(tenant.api.get(f"/tasks/{task['id']}"), 404)
    assert_error(tenant.api.delete(f"/tasks/{task['id']}"), 404)
