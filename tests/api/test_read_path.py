"""The read path of every list and get endpoint (Core selects, one TypeAdapter call, the envelope
spliced as bytes) answers byte for byte what the ORM objects dumped through the pydantic models and
jsonify answered before: same fields, same order, same escaping, same numbers."""

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import jsonify

from tests.api.helpers import assert_ok
from tests.support import ScopedClient, Tenant

NON_ASCII = "José 🎙 «Zoë»"


def _assert_same_bytes(app, response, data) -> None:
    """`data` (the old path's JSON value) in the envelope the old path wrote, with this response's
    meta (its timestamp and request id are the only parts that differ between two requests)."""
    meta = response.get_json()["meta"]
    with app.test_request_context():
        before = jsonify({"success": True, "data": data, "meta": meta}).get_data()
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.get_data() == before


def _old_page(app, rows, total, *, limit: int, offset: int, model):
    data = [model.model_validate(row).model_dump(mode="json") for row in rows]
    return data, {"total": total, "limit": limit, "offset": offset, "has_more": offset + len(data) < total}


@pytest.fixture
def orm(app):
    """The ORM's view of the database as it is now."""
    from webapp.extensions import db

    db.session.rollback()
    db.session.expire_all()
    yield db.session
    db.session.rollback()


@pytest.fixture(scope="module")
def varied_tenant(app):
    """A tenant of its own with an agent and a task whose fields exercise the encoding: non-ASCII
    text, partial nested settings, JSON objects in unsorted key order, and floats."""
    tenant = Tenant(app, ScopedClient(app))
    tenant.agent()
    agent = tenant.agent(
        name=NON_ASCII,
        description='line\nbreak "quoted" <tag> & \u2028',
        voice_settings={"speed": 1.1, "stability": 0.35},
        dynamic_variables={"zeta": "z", "alpha": 1, "mid": 2.5, "flag": True, "uni": "ç"},
    )
    tenant.task(
        agent["id"],
        name=f"Call {NON_ASCII}",
        context_data={"zz": {"b": 1, "a": [3.25, "ü", None]}, "aa": "first", "Mixed": 1e-7, "n": 12345678901234},
        priority=-3,
        scheduled_at="2031-02-03T04:05:06.789+02:00",
    )
    tenant.task(agent["id"])
    return tenant


def test_agent_lists_and_gets_are_the_same_bytes(app, orm, varied_tenant):
    from webapp.schemas.agents import AgentOut
    from webapp.services import agents

    tenant = varied_tenant
    for query, enabled, limit, offset in [
        ("", None, 50, 0),
        ("?limit=1", None, 1, 0),
        ("?limit=1&offset=1", None, 1, 1),
        ("?enabled=true&limit=2", True, 2, 0),
        ("?offset=500", None, 50, 500),
    ]:
        response = tenant.api.get(f"/agents{query}")
        rows, total = agents.list_agents(tenant.org_id, enabled=enabled, limit=limit, offset=offset)
        data, pagination = _old_page(app, rows, total, limit=limit, offset=offset, model=AgentOut)
        assert response.get_json()["meta"]["pagination"] == pagination, query
        _assert_same_bytes(app, response, data)
    for agent in agents.list_agents(tenant.org_id, enabled=None, limit=50, offset=0)[0]:
        expected = AgentOut.model_validate(agent).model_dump(mode="json")
        _assert_same_bytes(app, tenant.api.get(f"/agents/{agent.id}"), expected)


@pytest.mark.parametrize("whose", ["varied", "finished calls"])
def test_task_lists_and_gets_are_the_same_bytes(app, orm, varied_tenant, finished_calls, whose):
    from webapp.schemas.tasks import TaskDetailOut, TaskOut
    from webapp.services import tasks

    tenant = varied_tenant if whose == "varied" else finished_calls.tenant
    agent_id = tasks.list_tasks(tenant.org_id, limit=1, offset=0)[0][0].agent_id
    for query, filters, limit, offset in [
        ("", {}, 50, 0),
        ("?status=completed", {"status": "completed"}, 50, 0),
        ("?status=pending", {"status": "pending"}, 50, 0),
        (f"?agent_id={agent_id}&limit=1", {"agent_id": agent_id}, 1, 0),
        ("?limit=1&offset=1", {}, 1, 1),
    ]:
        response = tenant.api.get(f"/tasks{query}")
        rows, total = tasks.list_tasks(tenant.org_id, limit=limit, offset=offset, **filters)
        data, pagination = _old_page(app, rows, total, limit=limit, offset=offset, model=TaskOut)
        assert response.get_json()["meta"]["pagination"] == pagination, query
        _assert_same_bytes(app, response, data)
    for task in tasks.list_tasks(tenant.org_id, limit=50, offset=0)[0]:
        expected = TaskDetailOut.model_validate(task).model_dump(mode="json")
        _assert_same_bytes(app, tenant.api.get(f"/tasks/{task.id}"), expected)


def test_call_lists_gets_transcripts_and_reports_are_the_same_bytes(app, orm, finished_calls):
    from webapp.schemas.calls import CallDetailOut, CallOut
    from webapp.services import call_queries, reports

    tenant = finished_calls.tenant
    for query, filters, limit, offset in [
        ("", {}, 50, 0),
        ("?status=failed", {"status": "failed"}, 50, 0),
        (f"?task_id={finished_calls.completed_task_id}", {"task_id": finished_calls.completed_task_id}, 50, 0),
        ("?limit=1", {}, 1, 0),
    ]:
        response = tenant.api.get(f"/calls{query}")
        rows, total = call_queries.list_calls(tenant.org_id, limit=limit, offset=offset, **filters)
        data, pagination = _old_page(app, rows, total, limit=limit, offset=offset, model=CallOut)
        assert response.get_json()["meta"]["pagination"] == pagination, query
        _assert_same_bytes(app, response, data)
    for call_id in (finished_calls.completed_call_id, finished_calls.failed_call_id):
        call = call_queries.get_call(tenant.org_id, call_id)
        assert call.transcript or call_id == finished_calls.failed_call_id
        expected = CallDetailOut.model_validate(call).model_dump(mode="json")
        _assert_same_bytes(app, tenant.api.get(f"/calls/{call_id}"), expected)
        transcript = {"call_id": call.id, "status": call.status, "transcript": call.transcript}
        _assert_same_bytes(app, tenant.api.get(f"/calls/{call_id}/transcript"), transcript)
        _assert_same_bytes(app, tenant.api.get(f"/calls/{call_id}/report"), reports.report_for(call))


def test_webhook_deliveries_are_the_same_bytes(app, orm, finished_calls):
    """Deliveries written here for a finished call, removed afterwards (other tests read that call)."""
    from webapp.models import Call, WebhookAttempt, WebhookDelivery
    from webapp.schemas.calls import WebhookDeliveryOut
    from webapp.services import webhooks

    tenant, call_id = finished_calls.tenant, finished_calls.completed_call_id
    assert_ok(tenant.api.get(f"/calls/{call_id}/webhook-deliveries"))
    call = orm.get(Call, call_id)
    started = datetime(2030, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    for number, event in enumerate(("call_started", "call_completed")):
        delivery = WebhookDelivery(
            organization_id=tenant.org_id, call_id=call.id, task_id=call.task_id, event_type=event,
            url="https://example.com/höök?a=1&b=2", payload={"x": 1}, status="delivered" if number else "retrying",
            attempt_count=number + 1, next_attempt_at=None if number else started + timedelta(seconds=30),
            delivered_at=started if number else None, created_at=started + timedelta(seconds=number),
        )  # fmt: skip
        orm.add(delivery)
        orm.flush()
        for attempt in range(number + 1):
            orm.add(WebhookAttempt(delivery_id=delivery.id, number=attempt + 1, attempted_at=started,
                                   status_code=200 if attempt else None, latency_ms=42 if attempt else None,
                                   error=None if attempt else "timed out: ünreachable"))  # fmt: skip
    orm.commit()
    try:
        expected = [
            WebhookDeliveryOut.model_validate(delivery).model_dump(mode="json")
            for delivery in webhooks.deliveries_for_call(tenant.org_id, call_id)
        ]
        assert len(expected) == 2
        _assert_same_bytes(app, tenant.api.get(f"/calls/{call_id}/webhook-deliveries"), expected)
    finally:
        orm.rollback()
        orm.execute(sa.delete(WebhookDelivery).where(WebhookDelivery.call_id == call_id))
        orm.commit()
