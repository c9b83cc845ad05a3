"""Test helpers shared by every test package (the fixtures that use them live in conftest.py; no
test imports anything from a conftest).

Every wait in the suite is a wait on an event (a row changing, a port answering, a message arriving)
with a bound, and every bound is scaled by TEST_TIME_FACTOR (default 1): on a slow or loaded machine,
`TEST_TIME_FACTOR=3 ./test.sh` gives every wait, and pytest-timeout's per-test limit, three times as
long. Use `scaled(seconds)` for any bound passed to a library (Playwright, requests, subprocess).
"""

import itertools
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_SERVER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
TERMINAL_CALL_STATUSES = ("completed", "failed")


def _time_factor() -> float:
    raw = os.environ.get("TEST_TIME_FACTOR", "").strip() or "1"
    try:
        factor = float(raw)
    except ValueError:
        raise ValueError(f"TEST_TIME_FACTOR must be a number, not {raw!r}") from None
    if not factor > 0:
        raise ValueError(f"TEST_TIME_FACTOR must be greater than 0, not {raw!r}")
    return factor


TIME_FACTOR = _time_factor()


def scaled(seconds: float) -> float:
    """A time bound in seconds, stretched by TEST_TIME_FACTOR."""
    return seconds * TIME_FACTOR


# The environment every test process shares (exported by the `backend` fixture, so the worker and
# web processes that tests start see it too).
TEST_ENVIRONMENT = {
    "SECRET_KEY": "test-secret-key-not-for-production",
    "SIMULATOR_TIME_SCALE": "40",
    "WEBHOOK_ALLOW_LOOPBACK": "1",
    "WEBHOOK_RETRY_DELAYS": "0.3,0.3,0.3,0.3,0.3",
    "WEBHOOK_TIMEOUT_SECONDS": "3",
    "SYNC_INTERVAL_SECONDS": "0.2",
    "DISPATCH_INTERVAL_SECONDS": "0.3",
    "SWEEP_INTERVAL_SECONDS": "0.5",
    "TELEPHONY_PROVIDER": "simulated",
    "RATE_LIMIT": "1000 per minute",
}


def postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except Exception:
        return False


def redis_answers() -> bool:
    import redis

    try:
        return redis.Redis.from_url(REDIS_SERVER_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False


def choose_backend() -> str:
    """TEST_BACKEND, or "services" when PostgreSQL and Redis answer, else "embedded"."""
    import pytest

    chosen = os.environ.get("TEST_BACKEND", "").strip()
    if chosen in ("services", "embedded"):
        return chosen
    if chosen:
        raise pytest.UsageError(f"TEST_BACKEND must be 'services' or 'embedded', not {chosen!r}")
    return "services" if postgres_answers() and redis_answers() else "embedded"


def create_pg_database(prefix: str = "va_test") -> tuple[str, str]:
    """A new, empty PostgreSQL database; returns (name, URL)."""
    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrate(env: dict | None = None) -> None:
    """`flask db upgrade` as a deploy would run it: the schema comes from the migrations."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT, env=dict(env or os.environ), check=True, capture_output=True, timeout=scaled(300),
    )  # fmt: skip


_client_addresses = itertools.count(1)


class ScopedClient(FlaskClient):
    """A browser of its own: each request in its own application context, as under a real server
    (the `app` fixture's session-wide context would otherwise share `g`, with Flask-Login's cached
    user and Flask-WTF's cached CSRF token, across requests and clients), and from its own loopback
    address (the login rate limit counts per address)."""

    def __init__(self, app):
        super().__init__(app, app.response_class, use_cookies=True)
        number = next(_client_addresses)
        self.environ_base["REMOTE_ADDR"] = f"127.0.{number // 250}.{number % 250 + 1}"

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


class ApiClient:
    """The Flask test client with an API key, returning (status, json body)."""

    def __init__(self, client, key: str):
        self.client = client
        self.key = key

    def request(self, method: str, path: str, json=None, headers=None, **kwargs):
        all_headers = {"Authorization": f"Bearer {self.key}", **(headers or {})}
        response = self.client.open(f"/api/v1{path}", method=method, json=json, headers=all_headers, **kwargs)
        return response

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.request("POST", path, json=json, **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.request("PATCH", path, json=json, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


class Tenant:
    """An organization with its owner and an API key."""

    def __init__(self, app, client):
        from webapp.services import keys, orgs

        suffix = uuid.uuid4().hex[:8]
        self.email = f"owner-{suffix}@example.com"
        self.password = "correct-horse-battery"
        self.org, self.owner = orgs.sign_up(org_name=f"Org {suffix}", email=self.email, password=self.password)
        self.org_id = self.org.id
        _, self.key = keys.create_key(self.org_id, "tests")
        self.api = ApiClient(client, self.key)

    def agent(self, **overrides) -> dict:
        body = {"name": "Support agent", "system_prompt": "You confirm deliveries politely.", **overrides}
        response = self.api.post("/agents", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["data"]

    def task(self, agent_id: str | None = None, **overrides) -> dict:
        body = {
            "agent_id": agent_id or self.agent()["id"],
            "name": "Call Jane",
            "to_number": "+14155550123",
            "context_data": {"customer_name": "Jane Roe", "order_id": "A-1001"},
            **overrides,
        }
        response = self.api.post("/tasks", json=body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["data"]


def login(client, email: str, password: str) -> str:
    """Log the test client in through the real form; returns the CSRF token for session writes."""
    page = client.get("/login")
    token = csrf_from(page.get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    session = client.get("/api/v1/session").get_json()
    return session["data"]["csrf_token"]


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    """Until something listens on the port (the bound is scaled by TEST_TIME_FACTOR)."""

    def listens() -> bool:
        with socket.socket() as sock:
            return sock.connect_ex(("127.0.0.1", port)) == 0

    wait_until(listens, timeout=timeout, interval=0.05, message=f"something to listen on port {port}")


class ChildProcess:
    """One of our processes (`argv` run with this Python from the repository root) as a real
    subprocess sharing the test database and Redis, its output in a log under INSTANCE_PATH."""

    def __init__(self, name: str, argv: list[str], extra_env: dict | None = None):
        self.log_path = Path(os.environ["INSTANCE_PATH"]) / f"{name}-{uuid.uuid4().hex[:6]}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, *argv],
            cwd=ROOT, env={**os.environ, **(extra_env or {})}, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=scaled(10))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=scaled(20))
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text()


class WorkerProcess(ChildProcess):
    """`python worker.py`."""

    def __init__(self, extra_env: dict | None = None, processes: int = 1):
        super().__init__("worker", ["worker.py", "--processes", str(processes)], extra_env)


class MediaProcess(ChildProcess):
    """`python media.py` (the media bridge of TELEPHONY_PROVIDER=twilio), up once its /healthz answers;
    `stream_url` is where Twilio opens its media streams."""

    def __init__(self, extra_env: dict | None = None):
        import requests

        port = free_port()
        super().__init__("media", ["media.py", "--port", str(port)], extra_env)
        self.stream_url = f"ws://127.0.0.1:{port}/media/twilio"
        health = f"http://127.0.0.1:{port}/healthz"

        def answers() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"the media process exited: {self.output()[-2000:]}")
            try:
                return requests.get(health, timeout=scaled(2)).status_code == 200
            except requests.RequestException:
                return False

        wait_until(answers, timeout=60, interval=0.1, message="the media process's /healthz")


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns something truthy and return that; fail with `message` once
    `timeout` seconds (scaled by TEST_TIME_FACTOR) have passed. The bound is only a backstop for a
    broken build: a passing test returns as soon as the event happens."""
    bound = scaled(timeout)
    deadline = time.monotonic() + bound
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {bound:g}s (TEST_TIME_FACTOR={TIME_FACTOR:g}) waiting for {message}")
        time.sleep(interval)


def execute(tenant, task_id: str) -> str:
    """POST /tasks/:id/execute through the tenant's API client; returns the new call's id."""
    response = tenant.api.post(f"/tasks/{task_id}/execute")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["data"]["call_id"]


def wait_for_call(tenant, call_id: str, *, finalized: bool = True, timeout: float = 90) -> dict:
    """The call once it is terminal (and finalized, with its report, unless told otherwise)."""

    def done():
        call = tenant.api.get(f"/calls/{call_id}").get_json()["data"]
        if call["status"] in TERMINAL_CALL_STATUSES and (call["report"] or not finalized):
            return call
        return None

    return wait_until(done, timeout=timeout, interval=0.2, message=f"call {call_id} to finish")


def watch_call_socket(live: dict, *, ping: bool = False) -> tuple[list[dict], threading.Event]:
    """Connect to the call's live socket (the /calls/:id/live answer) with its session token and
    collect every message in a thread until the terminal call_status_update; `done` is then set."""
    import websocket

    messages: list[dict] = []
    done = threading.Event()

    def collect() -> None:
        url = f"{live['websocket_url']}?session_token={live['temp_token']}"
        ws = websocket.create_connection(url, timeout=scaled(60))
        try:
            if ping:
                ws.send(json.dumps({"type": "ping"}))
            while True:
                message = json.loads(ws.recv())
                messages.append(message)
                if message["type"] == "call_status_update" and message["data"]["status"] in ("completed", "failed"):
                    break
        finally:
            ws.close()
            done.set()

    threading.Thread(target=collect, daemon=True).start()
    return messages, done


class ServedApp:
    """A Flask app served over real HTTP (and WebSocket) by a threaded Werkzeug server in this process."""

    def __init__(self, app, port: int = 0):
        from werkzeug.serving import make_server

        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


class Lane:
    """An app and a worker of their own (their own Redis namespace, the session's database) where
    simulated calls run at `time_scale` (simulated seconds per real second): slow enough for a test
    to act on a call while it is in progress, and then end it itself instead of racing it. With
    `serve=True` the app is also served over real HTTP (`url`)."""

    def __init__(self, backend: dict, *, time_scale: float, serve: bool = False):
        from webapp import create_app

        namespace = f"lane-{uuid.uuid4().hex[:6]}"
        self.app = create_app({"TESTING": True, "REDIS_NAMESPACE": namespace}, instance_path=backend["instance"])
        self.worker = WorkerProcess({"REDIS_NAMESPACE": namespace, "SIMULATOR_TIME_SCALE": str(time_scale)})
        # Its worker is up before any test places a call: the session's other workers share the
        # database, and their sweep places a call left unplaced for long (at their time scale).
        health = self.app.test_client()
        wait_until(lambda: health.get("/healthz").status_code == 200, timeout=120, message="the lane's worker")
        self.served = ServedApp(self.app) if serve else None
        self.url = self.served.url if self.served else None

    def close(self) -> None:
        if self.served:
            self.served.stop()
        self.worker.stop()
