"""ElevenLabs + Twilio end to end: the local emulator, a web app and a real worker configured
for it. They use their own Redis namespace, so the simulated session worker never takes their
jobs (and the engine only polls calls of the configured provider)."""

import os
import threading
from types import SimpleNamespace

import pytest
from werkzeug.serving import make_server

from tests.emulators import ProviderEmulator
from tests.provider.helpers import HttpApi
from tests.support import Tenant, WorkerProcess, free_port

PROVIDER_TIMEOUT_SECONDS = 1.0
AGENT_SYNC_RETRY_SECONDS = 0.5


@pytest.fixture(scope="package")
def emulator():
    """Each GET of a conversation moves it 2 s of call time on: the worker's polling drives calls."""
    server = ProviderEmulator(clock="polls", step_seconds=2.0).start()
    yield server
    server.stop()


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
        "RECORDING_RETRY_DELAYS": (0.5, 1.0),
        "REDIS_NAMESPACE": f"{os.environ['REDIS_NAMESPACE']}-elevenlabs",
        **overrides,
    }


def make_app(backend, settings: dict):
    from webapp import create_app

    return create_app({"TESTING": True, **settings}, instance_path=backend["instance"])


@pytest.fixture(scope="package")
def site(backend, emulator):
    """The app configured for ElevenLabs, served over real HTTP and WebSocket in a thread."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = make_app(backend, provider_settings(emulator, PUBLIC_BASE_URL=url))
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield SimpleNamespace(app=app, url=url)
    server.shutdown()


@pytest.fixture(scope="package")
def provider_worker(site, emulator):
    """One real `python worker.py` with the same provider settings, for the whole package."""
    env = {
        key: ",".join(map(str, value)) if isinstance(value, tuple) else str(value)
        for key, value in provider_settings(emulator, PUBLIC_BASE_URL=site.url).items()
    }
    process = WorkerProcess(extra_env=env)
    yield process
    process.stop()


@pytest.fixture
def account(site, provider_worker):
    """A fresh organization on the ElevenLabs-configured app; `account.http` speaks real HTTP."""
    with site.app.app_context():
        tenant = Tenant(site.app, site.app.test_client())
    tenant.http = HttpApi(site.url, tenant.key)
    return tenant


@pytest.fixture(scope="package")
def app_without_twilio(backend, emulator):
    """The same deployment without Twilio credentials (it can't end calls)."""
    return make_app(backend, provider_settings(emulator, TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None))
