"""Helpers for the ElevenLabs + Twilio end-to-end tests."""

import os

import requests

from tests.support import Tenant, scaled, wait_until

OUTBOUND_CALL = "/v1/convai/twilio/outbound-call"
AGENTS = "/v1/convai/agents"
CALLEE = "+14155550123"
FROZEN = 10**6
PROVIDER_TIMEOUT_SECONDS = scaled(3.0)  # a busy machine answers slowly; the timeout test delays past it
AGENT_SYNC_RETRY_SECONDS = 0.5


class HttpApi:
    """/api/v1 over real HTTP with an API key; methods return the `requests` response."""

    def __init__(self, base_url: str, key: str):
        self.base_url = base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {key}"

    def request(self, method: str, path: str, **kwargs) -> requests.Response:
        return self.session.request(method, f"{self.base_url}/api/v1{path}", timeout=scaled(60), **kwargs)

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def patch(self, path: str, **kwargs) -> requests.Response:
        return self.request("PATCH", path, **kwargs)

    def data(self, path: str) -> dict:
        response = self.get(path)
        assert response.status_code == 200, response.text
        return response.json()["data"]


def synced_agent(account, **fields) -> dict:
    """An agent created through the API, once its ElevenLabs copy exists."""
    agent = account.agent(**fields)
    return wait_until(
        lambda: (a := account.http.data(f"/agents/{agent['id']}"))["sync_status"] == "synced" and a,
        message="the agent to sync",
    )


def execute(account, task_id: str) -> str:
    response = account.http.post(f"/tasks/{task_id}/execute")
    assert response.status_code == 200, response.text
    return response.json()["data"]["call_id"]


def start_call(account, to_number: str = CALLEE, **task_fields) -> str:
    agent = synced_agent(account, starting_message="Hello {{customer_name}}, this is Acme about order {{order_id}}.")
    task = account.task(agent["id"], to_number=to_number, **task_fields)
    return execute(account, task["id"])


def placed(account, call_id: str) -> dict:
    """The call once the provider has placed it (it has a conversation id)."""
    return wait_until(
        lambda: (c := account.http.data(f"/calls/{call_id}"))["provider_call_id"] and c, message="the call placed"
    )


def finished(account, call_id: str, *, timeout: float = 30) -> dict:
    """The call once terminal and finalized (it has its report)."""
    return wait_until(
        lambda: (c := account.http.data(f"/calls/{call_id}"))["report"] and c,
        timeout=timeout,
        message=f"call {call_id} to finish",
    )


def freeze(emulator, conversation_id: str) -> None:
    """Every later request about this conversation fails: polling can no longer move the call,
    so only what a test sends (webhooks, API calls) changes it. Returns once a poll has failed,
    so no poll answered before the freeze is still being applied."""
    path = f"/v1/convai/conversations/{conversation_id}"
    seen = len(emulator.requests_to("GET", path))
    emulator.fail_next(500, times=FROZEN, path_prefix=path)
    wait_until(lambda: len(emulator.requests_to("GET", path)) > seen, message="a poll of the frozen call")


def provider_settings(emulator, **overrides) -> dict:
    return {
        "TELEPHONY_PROVIDER": "elevenlabs",
        "ELEVENLABS_API_KEY": emulator.api_key,
        "ELEVENLABS_API_BASE_URL": emulator.url,
        "ELEVENLABS_AGENT_PHONE_NUMBER_ID": emulator.phone_number_id,
        "ELEVENLABS_WEBHOOK_SECRET": emulator.webhook_secret,
        "TWILIO_ACCOUNT_SID": emulator.twilio_account_sid,
        "TWILIO_AUTH_TOKEN": emulator.twilio_auth_token,
        "TWILIO_API_BASE_URL": emulator.url,
        "PROVIDER_TIMEOUT_SECONDS": PROVIDER_TIMEOUT_SECONDS,
        "AGENT_SYNC_RETRY_SECONDS": AGENT_SYNC_RETRY_SECONDS,
        "REDIS_NAMESPACE": f"{os.environ['REDIS_NAMESPACE']}-elevenlabs",
        **overrides,
    }


def make_app(backend, settings: dict):
    from webapp import create_app

    return create_app({"TESTING": True, **settings}, instance_path=backend["instance"])


def worker_env(settings: dict) -> dict:
    """App settings as the environment of a `python worker.py` process."""
    return {key: ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
            for key, value in settings.items()}  # fmt: skip


def tenant_over_http(site) -> Tenant:
    """A fresh organization on the served app; `tenant.http` speaks real HTTP to it."""
    with site.app.app_context():
        tenant = Tenant(site.app, site.app.test_client())
    tenant.http = HttpApi(site.url, tenant.key)
    return tenant
