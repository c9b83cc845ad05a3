"""The webhook address guard: private, loopback and link-local targets are refused when a URL is
saved and again when a delivery is attempted (after DNS), and redirects are never followed."""

import pytest
from werkzeug.wrappers import Response

from tests.emulators import WebhookReceiver
from tests.emulators.server import EmulatorServer
from tests.reliability.stack import api_session
from tests.support import ApiClient, ScopedClient, free_port, wait_until

ALWAYS_REFUSED = [
    "https://10.0.0.1/hook", "https://192.168.1.20/hook", "https://172.16.0.5/hook", "https://172.31.255.1/hook",
    "https://169.254.169.254/latest/meta-data", "https://[fe80::1]/hook", "https://[fd00::1]/hook",
    "https://[::ffff:10.0.0.1]/hook", "https://0.0.0.0/hook", "https://100.64.0.1/hook", "https://224.0.0.1/hook",
    "http://example.com/hook", "https://user:secret@example.com/hook", "ftp://example.com/hook",
    "javascript:alert(1)", "not a url", "https:///hook",
]  # fmt: skip
LOOPBACK = ["http://127.0.0.1:8080/hook", "http://localhost:8080/hook", "http://LOCALHOST/hook",
            "https://[::1]/hook", "https://127.0.0.2/hook"]  # fmt: skip


class RedirectingReceiver(EmulatorServer):
    """Answers every request with a redirect to `location`."""

    def __init__(self, location: str, status: int):
        super().__init__()
        self.location, self.status = location, status

    def dispatch(self, request, payload):
        return Response("", status=self.status, headers={"Location": self.location})


def refused_at_save(api: ApiClient, agent_id: str, url: str) -> str:
    body = {"agent_id": agent_id, "name": "x", "to_number": "+14155550123", "webhook_url": url}
    response = api.post("/tasks", json=body)
    assert response.status_code == 400, (url, response.get_json())
    return response.get_json()["details"]["webhook_url"]


def test_private_and_link_local_addresses_are_refused_when_saved(tenant):
    agent_id = tenant.agent()["id"]
    for url in ALWAYS_REFUSED:
        refused_at_save(tenant.api, agent_id, url)
    task = tenant.task(agent_id)
    for url in ALWAYS_REFUSED[:6]:
        assert tenant.api.patch(f"/tasks/{task['id']}", json={"webhook_url": url}).status_code == 400


def test_loopback_is_refused_when_saved_unless_allowed(app, backend, tenant):
    from webapp import create_app

    agent_id = tenant.agent()["id"]
    assert app.config["WEBHOOK_ALLOW_LOOPBACK"] is True
    assert tenant.task(agent_id, webhook_url=LOOPBACK[0])["webhook_url"] == LOOPBACK[0]
    strict = create_app({"TESTING": True, "WEBHOOK_ALLOW_LOOPBACK": False}, instance_path=backend["instance"])
    api = ApiClient(ScopedClient(strict), tenant.key)
    for url in LOOPBACK:
        assert "loopback" in refused_at_save(api, agent_id, url)


def settled_deliveries(deliveries_of, call_ids: list[str]) -> list[dict]:
    """Waits until each call has one delivery that is delivered or failed; `deliveries_of(call_id)`."""

    def all_settled():
        found = [delivery for call_id in call_ids for delivery in deliveries_of(call_id)]
        return len(found) == len(call_ids) and all(d["status"] in ("delivered", "failed") for d in found) and found

    return wait_until(all_settled, timeout=60, message="every delivery to settle")


def test_deliveries_to_non_public_addresses_are_refused_after_resolution(make_stack):
    stack = make_stack()  # the web process accepts loopback URLs; the worker delivering them does not
    api = api_session(stack.serve(WEBHOOK_ALLOW_LOOPBACK=1), stack.create_tenant())
    stack.worker(WEBHOOK_ALLOW_LOOPBACK=0)
    agent = api("POST", "/agents", json={"name": "Agent", "system_prompt": "You confirm deliveries."}).json()["data"]
    with WebhookReceiver() as receiver:
        port = receiver.url.rsplit(":", 1)[1]
        saved_through_the_api = [
            f"http://127.0.0.1:{port}/a",
            f"http://localhost:{port}/b",
            f"https://2130706433:{port}/c",
        ]  # 2130706433 is 127.0.0.1 written as a number
        written_to_the_database = ["https://10.0.0.1/d", "https://192.168.1.20/e", "https://172.16.0.5/f",
                                   "https://169.254.169.254/latest/meta-data"]  # fmt: skip
        call_ids = []
        for url in saved_through_the_api + written_to_the_database:
            body = {"agent_id": agent["id"], "name": "x", "to_number": "+14155550123",
                    "webhook_url": saved_through_the_api[0], "webhook_events": ["call_completed"]}  # fmt: skip
            task = api("POST", "/tasks", json=body).json()["data"]
            stack.execute_sql("UPDATE tasks SET webhook_url = :url WHERE id = :id", url=url, id=task["id"])
            call_ids.append(api("POST", f"/tasks/{task['id']}/execute").json()["data"]["call_id"])
        deliveries = settled_deliveries(lambda c: api("GET", f"/calls/{c}/webhook-deliveries").json()["data"], call_ids)
        assert receiver.requests == []
    for delivery in deliveries:
        assert delivery["status"] == "failed" and delivery["attempt_count"] == 1, delivery
        attempt = delivery["attempts"][0]
        assert attempt["status_code"] is None and attempt["error"].startswith("refused:"), delivery
        assert any(word in attempt["error"] for word in ("loopback", "non-public", "link-local")), attempt


@pytest.mark.parametrize("status", [302, 307])
def test_redirects_are_recorded_and_never_followed(tenant, worker, receiver, status):
    to_private = RedirectingReceiver("http://10.0.0.1/steal", status)
    to_loopback = RedirectingReceiver(f"{receiver.url}/followed", status)  # where following would be seen
    with to_private, to_loopback:
        call_ids = []
        for redirecting in (to_private, to_loopback):
            task = tenant.task(webhook_url=f"{redirecting.url}/hook", webhook_events=["call_completed"])
            call_ids.append(tenant.api.post(f"/tasks/{task['id']}/execute").get_json()["data"]["call_id"])
        deliveries = settled_deliveries(lambda c: deliveries_through(tenant, c), call_ids)
        assert len(to_private.requests) == 1 and len(to_loopback.requests) == 1
    assert receiver.requests == []
    for delivery in deliveries:
        assert delivery["status"] == "failed" and delivery["attempt_count"] == 1, delivery
        attempt = delivery["attempts"][0]
        assert attempt["status_code"] == status and "redirect" in attempt["error"], attempt


def deliveries_through(tenant, call_id: str) -> list[dict]:
    return tenant.api.get(f"/calls/{call_id}/webhook-deliveries").get_json()["data"]


def test_an_unresolvable_host_is_recorded_as_refused(tenant, worker):
    host = f"no-such-host-{free_port()}.invalid"
    task = tenant.task(webhook_url=f"https://{host}/hook", webhook_events=["call_completed"])
    call_id = tenant.api.post(f"/tasks/{task['id']}/execute").get_json()["data"]["call_id"]
    delivery = settled_deliveries(lambda c: deliveries_through(tenant, c), [call_id])[0]
    assert delivery["status"] == "failed" and delivery["attempts"][0]["error"].startswith("refused:")
