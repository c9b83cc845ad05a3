"""ElevenLabs + Twilio end to end: the local emulator, a web app and a real worker configured
for it. They use their own Redis namespace, so the simulated session worker never takes their
jobs (and the engine only polls calls of the configured provider)."""

from types import SimpleNamespace

import pytest

from tests.emulators import ProviderEmulator
from tests.provider.helpers import make_app, provider_settings, tenant_over_http, worker_env
from tests.support import ServedApp, WorkerProcess, free_port
from webapp.telephony.base import AgentSpec


@pytest.fixture(scope="package")
def emulator():
    """Each GET of a conversation moves it 2 s of call time on: the worker's polling drives calls."""
    server = ProviderEmulator(clock="polls", step_seconds=2.0).start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def site(backend, emulator):
    """The app configured for ElevenLabs, served over real HTTP and WebSocket in a thread."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = make_app(backend, provider_settings(emulator, PUBLIC_BASE_URL=url))
    with app.app_context():  # import the ElevenLabs SDK now, not in the first request (slow under load)
        from webapp.telephony import get_provider

        get_provider(app.config).check_reachable(AgentSpec("warm-up", "", "", None, {}, {}))
    served = ServedApp(app, port)
    yield SimpleNamespace(app=app, url=url)
    served.stop()


@pytest.fixture(scope="package")
def provider_worker(site, emulator):
    """One real `python worker.py` with the same provider settings, for the whole package."""
    process = WorkerProcess(extra_env=worker_env(provider_settings(emulator, PUBLIC_BASE_URL=site.url)))
    yield process
    process.stop()


@pytest.fixture
def account(site, provider_worker):
    """A fresh organization on the ElevenLabs-configured app; `account.http` speaks real HTTP."""
    return tenant_over_http(site)


@pytest.fixture(scope="package")
def app_without_twilio(backend, emulator):
    """The same deployment without Twilio credentials (it can't end calls)."""
    return make_app(backend, provider_settings(emulator, TWILIO_ACCOUNT_SID=None, TWILIO_AUTH_TOKEN=None))
