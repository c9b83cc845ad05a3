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
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
import redis

from tests.support import (  # noqa: F401 - re-exported for tests that import them from here
    ApiClient,
    ScopedClient,
    Tenant,
    WorkerProcess,
    _csrf_from,
    free_port,
    login,
    wait_for_port,
    wait_until,
)

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
    os.environ["REDIS_NAMESPACE"] = f"test-{uuid.uuid4().hex[:8]}"  # runs sharing a Redis server stay apart
    pg_name = None
    if kind == "services":
        if not (_postgres_answers() and _redis_answers()):
            pytest.exit("TEST_BACKEND=services but PostgreSQL or Redis does not answer", returncode=3)
        pg_name, os.environ["DATABASE_URL"] = _create_pg_database()
        os.environ["REDIS_URL"] = REDIS_SERVER_URL
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
    return ScopedClient(app)


@pytest.fixture
def db(app):
    from webapp.extensions import db as database

    yield database
    database.session.remove()


@pytest.fixture
def tenant(app, client):
    return Tenant(app, client)


@pytest.fixture
def other_tenant(app, client):
    return Tenant(app, client)


@pytest.fixture
def make_tenant(app, client):
    return lambda: Tenant(app, client)


@pytest.fixture
def csrf_from():
    return _csrf_from


@pytest.fixture
def logged_in(client, tenant):
    """The test client logged in as the tenant's owner; returns the CSRF token."""
    return login(client, tenant.email, tenant.password)


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over real HTTP (and WebSocket) by a threaded server in this process."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


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
