"""Webhook receivers that are slow, down or failing: every attempt is recorded, retries follow, and
the call completes regardless (real worker, WEBHOOK_TIMEOUT_SECONDS=3, retries 0.3 s apart)."""

from tests.support import free_port, wait_until


def _completed_call_with_webhook(tenant, url: str) -> dict:
    task = tenant.task(webhook_url=url, webhook_events=["call_completed"])
    call_id = tenant.api.post(f"/tasks/{task['id']}/execute").get_json()["data"]["call_id"]
    call = wait_until(lambda: (c := tenant.api.get(f"/calls/{call_id}").get_json()["data"])["report"] and c)
    assert call["status"] == "completed", call
    assert tenant.api.get(f"/tasks/{task['id']}").get_json()["data"]["status"] == "completed"
    return call


def _settled_delivery(tenant, call_id: str) -> dict:
    def settled():
        deliveries = tenant.api.get(f"/calls/{call_id}/webhook-deliveries").get_json()["data"]
        return deliveries and deliveries[0]["status"] in ("delivered", "failed") and deliveries[0]

    return wait_until(settled, timeout=60, message="the webhook delivery to settle")


def test_a_receiver_slower_than_the_timeout_is_retried(tenant, worker, receiver):
    receiver.delay_next(4.5)  # WEBHOOK_TIMEOUT_SECONDS is 3
    call = _completed_call_with_webhook(tenant, f"{receiver.url}/slow")
    delivery = _settled_delivery(tenant, call["id"])
    assert delivery["status"] == "delivered" and delivery["attempt_count"] == 2
    timed_out, delivered = delivery["attempts"]
    assert timed_out["status_code"] is None and "Timeout" in timed_out["error"], timed_out
    assert timed_out["latency_ms"] >= 2900
    assert delivered["status_code"] == 200 and delivered["error"] is None
    assert len(receiver.requests_to("POST", "/slow")) == 2


def test_a_receiver_that_is_down_gets_every_retry_then_the_delivery_fails(app, tenant, worker):
    retries = len(app.config["WEBHOOK_RETRY_DELAYS"])
    call = _completed_call_with_webhook(tenant, f"http://127.0.0.1:{free_port()}/down")
    delivery = _settled_delivery(tenant, call["id"])
    assert delivery["status"] == "failed" and delivery["attempt_count"] == retries + 1
    assert [a["number"] for a in delivery["attempts"]] == list(range(1, retries + 2))
    assert all(a["status_code"] is None and "ConnectionError" in a["error"] for a in delivery["attempts"])


def test_a_receiver_failing_twice_then_succeeding_gets_three_attempts(tenant, worker, receiver):
    receiver.fail_next(503, times=2)
    call = _completed_call_with_webhook(tenant, f"{receiver.url}/flaky")
    delivery = _settled_delivery(tenant, call["id"])
    assert delivery["status"] == "delivered" and delivery["delivered_at"]
    assert [(a["number"], a["status_code"]) for a in delivery["attempts"]] == [(1, 503), (2, 503), (3, 200)]
    assert [a["error"] for a in delivery["attempts"]] == ["HTTP 503", "HTTP 503", None]
    hooks = receiver.requests_to("POST", "/flaky")
    assert len(hooks) == 3 and len({h.headers["X-Webhook-Id"] for h in hooks}) == 1  # one event, retried
