"""Shared fixtures: a real database and a real Redis for every test run.

TEST_BACKEND picks them:
- "services": PostgreSQL at 127.0.0.1:5432 (a fresh database per run) and the Redis server at
  127.0.0.1:6379. Fails loudly if they don't answer.
- "embedded": SQLite and an embedded Redis server under a temporary instance/ folder, as on a
  fresh laptop.
- unset: "services" when both answer, else "embedded".

The environment is exported, so the worker and web processes tests start see the same setup.
"""

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import redis

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_SERVER_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")


def _postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=2):
            return True
    except Exception:
        return False


def _redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS_SERVER_URL, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return False


def _choose_backend() -> str:
    chosen = os.environ.get("TEST_BACKEND", "").strip()
    if chosen in ("services", "embedded"):
        return chosen
    if chosen:
        raise pytest.UsageError(f"TEST_BACKEND must be 'services' or 'embedded', not {chosen!r}")
    return "services" if _postgres_answers() and _redis_answers() else "embedded"


def _create_pg_database() -> tuple[str, str]:
    import psycopg

    name = f"va_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    return name, f"{base}/{name}"


def _drop_pg_database(name: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


@pytest.fixture(scope="session")
def backend(tmp_path_factory):
    """Exports DATABASE_URL/REDIS_URL/... for this run and migrates the database to head."""
    kind = _choose_backend()
    instance = tmp_path_factory.mktemp("instance")
    saved = dict(os.environ)
    os.environ.update(TEST_ENVIRONMENT)
    os.environ["RECORDINGS_DIR"] = str(instance / "recordings")
    os.environ["INSTANCE_PATH"] = str(instance)
    pg_name = None
    if kind == "services":
        if not (_postgres_answers() and _redis_answers()):
            pytest.exit("TEST_BACKEND=services but PostgreSQL or Redis does not answer", returncode=3)
        pg_name, os.environ["DATABASE_URL"] = _create_pg_database()
        os.environ["REDIS_URL"] = REDIS_SERVER_URL
        redis.Redis.from_url(REDIS_SERVER_URL).flushdb()
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{instance / 'test.db'}"
        os.environ.pop("REDIS_URL", None)
    _migrate(instance)
    yield {"kind": kind, "instance": instance, "database_url": os.environ["DATABASE_URL"]}
    if kind == "embedded":
        from webapp.embedded_redis import stop_embedded_redis

        stop_embedded_redis(instance)
    os.environ.clear()
    os.environ.update(saved)
    if pg_name:
        _drop_pg_database(pg_name)


def _migrate(instance: Path) -> None:
    """`flask db upgrade` as a deploy would run it: the schema comes from the migrations."""
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        cwd=ROOT, env=dict(os.environ), check=True, capture_output=True,
    )  # fmt: skip


@pytest.fixture(scope="session")
def app(backend):
    from webapp import create_app

    application = create_app({"TESTING": True}, instance_path=backend["instance"])
    with application.app_context():
        yield application


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    from webapp.extensions import db as database

    yield database
    database.session.remove()


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


@pytest.fixture
def tenant(app, client):
    return Tenant(app, client)


@pytest.fixture
def other_tenant(app, client):
    return Tenant(app, client)


@pytest.fixture
def make_tenant(app, client):
    return lambda: Tenant(app, client)


def login(client, email: str, password: str) -> str:
    """Log the test client in through the real form; returns the CSRF token for session writes."""
    page = client.get("/login")
    token = _csrf_from(page.get_data(as_text=True))
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    session = client.get("/api/v1/session").get_json()
    return session["data"]["csrf_token"]


def _csrf_from(html: str) -> str:
    import re

    match = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token on the page"
    return match.group(1)


@pytest.fixture
def csrf_from():
    return _csrf_from


@pytest.fixture
def logged_in(client, tenant):
    """The test client logged in as the tenant's owner; returns the CSRF token."""
    return login(client, tenant.email, tenant.password)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on port {port}")


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over real HTTP (and WebSocket) by a threaded server in this process."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


class WorkerProcess:
    """`python worker.py` as a real subprocess sharing the test database and Redis."""

    def __init__(self, extra_env: dict | None = None, processes: int = 1):
        self.log_path = Path(os.environ["INSTANCE_PATH"]) / f"worker-{uuid.uuid4().hex[:6]}.log"
        self.log = open(self.log_path, "w")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [sys.executable, "worker.py", "--processes", str(processes)],
            cwd=ROOT, env={**os.environ, **(extra_env or {})}, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()

    def output(self) -> str:
        return self.log_path.read_text()


@pytest.fixture(scope="session")
def worker(backend):
    """One real worker process for the whole session (tests that kill workers start their own)."""
    process = WorkerProcess()
    yield process
    process.stop()


@pytest.fixture
def start_worker(backend):
    started = []

    def start(**kwargs) -> WorkerProcess:
        process = WorkerProcess(**kwargs)
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1, message: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail with `message` on timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}")
