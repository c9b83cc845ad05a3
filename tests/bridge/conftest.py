"""TELEPHONY_PROVIDER=twilio end to end over loopback: the app (real HTTP, in a thread), a real
media process (`python media.py`, where Twilio's media streams go) and a real worker, with
emulated Twilio (REST, callbacks, media stream, callee) and ElevenLabs (agents API and
conversation socket). Emulator protocol errors fail the test."""

from types import SimpleNamespace

import pytest

from tests.bridge.helpers import settings
from tests.emulators import ProviderEmulator
from tests.emulators.agent_socket import AgentSocketEmulator
from tests.emulators.twilio_media import TwilioEmulator
from tests.provider.helpers import make_app, tenant_over_http, worker_env
from tests.support import MediaProcess, ServedApp, WorkerProcess, free_port


@pytest.fixture(scope="package")
def emulators():
    elevenlabs = ProviderEmulator().start()
    sockets = AgentSocketEmulator().start()
    elevenlabs.agent_sockets = sockets
    twilio = TwilioEmulator().start()
    yield SimpleNamespace(elevenlabs=elevenlabs, sockets=sockets, twilio=twilio)
    twilio.stop()
    sockets.stop()
    elevenlabs.stop()


@pytest.fixture(scope="package")
def site(backend, emulators):
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    media = MediaProcess(extra_env=worker_env(settings(emulators, url)))
    app = make_app(backend, {**settings(emulators, url), "MEDIA_PUBLIC_URL": media.stream_url})
    served = ServedApp(app, port)
    yield SimpleNamespace(app=app, url=url, media=media)
    served.stop()
    media.stop()


@pytest.fixture(scope="package")
def provider_worker(site, emulators):
    """The name marks the tests using it `slow` (tests/conftest.py)."""
    process = WorkerProcess(extra_env=worker_env(settings(emulators, site.url)))
    yield process
    process.stop()


@pytest.fixture
def account(site, provider_worker):
    return tenant_over_http(site)


@pytest.fixture(autouse=True)
def no_protocol_errors(emulators):
    """What the real services would have refused fails the test."""
    emulators.twilio.errors.clear()
    emulators.sockets.errors.clear()
    yield
    assert emulators.twilio.errors == [], emulators.twilio.errors
    assert emulators.sockets.errors == [], emulators.sockets.errors


@pytest.fixture(autouse=True)
def callbacks_in_twilios_usual_order(emulators):
    emulators.twilio.callbacks_before_hang_up_answer = False
