"""Deliveries due at the same moment are sent in batches (one job drains many): each still arrives
once, signed, with its own stable X-Webhook-Id, and each attempt is recorded on its delivery."""

import hashlib
import hmac

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
