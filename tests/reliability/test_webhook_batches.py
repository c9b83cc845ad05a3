"""Deliveries due at the same moment are sent in batches (one job drains many): each still arrives
once, signed, with its own stable X-Webhook-Id, and each attempt is recorded on its delivery."""

import hashlib
import hmac
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.support import wait_until
from webapp.services import webhooks


def _signed_by(secret: str, header: str, body: bytes) -> bool:
    parts = dict(part.split("=", 1) for part in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(parts["v1"], expected)


def test_deliveries_due_together_each_arrive_once_signed_and_recorded(tenant, worker, receiver):
    count = 8  # below the organization's concurrent-call cap (10): every execute places a call
    agent = tenant.agent()
    tasks = [tenant.task(agent["id"], to_number=f"+1415555{200 + n:04d}", webhook_url=f"{receiver.url}/batch",
                         webhook_events=["call_started"]) for n in range(count)]  # fmt: skip
    executed = [tenant.api.post(f"/tasks/{task['id']}/execute") for task in tasks]
    assert all(response.status_code == 200 for response in executed), [r.get_json() for r in executed]
    call_ids = [response.get_json()["data"]["call_id"] for response in executed]

    hooks = wait_until(
        lambda: len(found := receiver.requests_to("POST", "/batch")) >= count and found, message="every webhook"
    )
    assert len(hooks) == count
    assert all(_signed_by(tenant.org.webhook_secret, h.headers["X-Webhook-Signature"], h.raw) for h in hooks)
    deliveries = {}
    for call_id in call_ids:
        (delivery,) = wait_until(
            lambda c=call_id: [d for d in tenant.api.get(f"/calls/{c}/webhook-deliveries").get_json()["data"]
                               if d["status"] == "delivered"],
            message="the delivery recorded as delivered",
        )  # fmt: skip
        deliveries[delivery["id"]] = delivery
    assert {h.headers["X-Webhook-Id"] for h in hooks} == set(deliveries)
    assert all([a["status_code"] for a in d["attempts"]] == [200] for d in deliveries.values())


def test_a_delivery_dispatched_twice_is_sent_once(app, tenant, worker, receiver):
    task = tenant.task(webhook_url=f"{receiver.url}/twice", webhook_events=["call_started"])
    call_id = tenant.api.post(f"/tasks/{task['id']}/execute").get_json()["data"]["call_id"]
    (delivery,) = wait_until(
        lambda: [d for d in tenant.api.get(f"/calls/{call_id}/webhook-deliveries").get_json()["data"]
                 if d["status"] == "delivered"],
        message="the delivery",
    )  # fmt: skip

    # dispatched again (a sweep racing a slow worker): a settled delivery is not sent again, and a
    # delivery queued after it still goes out, so the drain did run past the duplicate
    webhooks.push_due([delivery["id"], delivery["id"]])
    later = tenant.task(webhook_url=f"{receiver.url}/after", webhook_events=["call_started"])
    tenant.api.post(f"/tasks/{later['id']}/execute")
    wait_until(lambda: receiver.requests_to("POST", "/after"), message="the later delivery")
    assert len(receiver.requests_to("POST", "/twice")) == 1


def _engine(stack) -> sa.Engine:
    return sa.create_engine(stack.database_url.replace("postgresql://", "postgresql+psycopg://"))


def _deliveries_due_since_a_minute(stack, urls: list[str]) -> list[str]:
    """A finished call with one call_completed-like delivery per URL, oldest first, all due for a
    minute (so the sweep dispatches them together, in one batch); returns their ids."""
    from webapp.models import Agent, Call, Organization, Task, WebhookDelivery
    from webapp.models.base import utcnow

    engine = _engine(stack)
    minute_ago = utcnow() - timedelta(minutes=1)
    try:
        with Session(engine) as session:
            org = Organization(name="Batch org")
            session.add(org)
            session.flush()
            agent = Agent(organization_id=org.id, name="Agent", system_prompt="You confirm deliveries.")
            session.add(agent)
            session.flush()
            task = Task(organization_id=org.id, agent_id=agent.id, name="Call Jane", to_number="+14155550123",
                        status="completed")  # fmt: skip
            session.add(task)
            session.flush()
            call = Call(organization_id=org.id, task_id=task.id, agent_id=agent.id, to_number=task.to_number,
                        status="completed", provider="simulated", finalized_at=minute_ago,
                        recording_status="none")  # fmt: skip
            session.add(call)
            session.flush()
            deliveries = [
                WebhookDelivery(organization_id=org.id, call_id=call.id, task_id=task.id, event_type=f"event_{n}",
                                url=url, payload={"n": n}, status="pending", next_attempt_at=minute_ago,
                                created_at=minute_ago + timedelta(seconds=n))
                for n, url in enumerate(urls)
            ]  # fmt: skip
            session.add_all(deliveries)
            session.commit()
            return [delivery.id for delivery in deliveries]
    finally:
        engine.dispose()


def _attempts_if_all_delivered(stack, count: int) -> list | None:
    """Each delivery's attempts (with its status), once there are `count` and all are delivered."""
    engine = _engine(stack)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT d.id, d.status, d.attempt_count, a.number, a.status_code FROM webhook_deliveries d"
                " JOIN webhook_attempts a ON a.delivery_id = d.id ORDER BY d.created_at, a.number"
            )).all()  # fmt: skip
    finally:
        engine.dispose()
    return rows if len(rows) == count and all(row.status == "delivered" for row in rows) else None


def test_a_worker_killed_mid_batch_leaves_the_whole_batch_to_be_sent_again_under_the_same_ids(make_stack, receiver):
    """A batch's attempts are committed together after its POSTs: a worker killed before that commit
    (here: while the batch's second POST hangs, the first already made) recorded none of them,
    so the sweep sends both again, each with its own X-Webhook-Id, and each is recorded once."""
    hold = 10
    stack = make_stack(WEBHOOK_TIMEOUT_SECONDS=hold + 2, REDISPATCH_AFTER_SECONDS=1, SWEEP_INTERVAL_SECONDS=0.3)
    first, held = _deliveries_due_since_a_minute(stack, [f"{receiver.url}/first", f"{receiver.url}/held"])
    receiver.delay_next(hold, path_prefix="/held")
    doomed = stack.worker()
    wait_until(lambda: receiver.requests_to("POST", "/first") and receiver.requests_to("POST", "/held"),
               message="the batch's first POST made and its second under way")  # fmt: skip
    doomed.kill()
    stack.worker()

    rows = wait_until(lambda: _attempts_if_all_delivered(stack, 2), timeout=90,
                      message="both deliveries sent again and recorded")  # fmt: skip
    assert [(row.id, row.attempt_count, row.number, row.status_code) for row in rows] == [
        (first, 1, 1, 200), (held, 1, 1, 200)]  # the killed batch recorded nothing  # fmt: skip
    for path, delivery_id in (("/first", first), ("/held", held)):
        sent = receiver.requests_to("POST", path)
        assert len(sent) == 2 and {r.headers["X-Webhook-Id"] for r in sent} == {delivery_id}
