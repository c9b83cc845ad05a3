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
import uuid

import pytest

from tests.support import (
    REDIS_SERVER_URL,
    TEST_ENVIRONMENT,
    ScopedClient,
    ServedApp,
    Tenant,
    WorkerProcess,
    choose_backend,
    create_pg_database,
    drop_pg_database,
    login,
    migrate,
    postgres_answers,
    redis_answers,
    scaled,
)

# Fixtures that start real worker processes: a test using one (directly or through another fixture)
# is an end-to-end test and carries the `slow` marker, so `pytest -m "not slow"` starts no worker.
WORKER_FIXTURES = {"worker", "start_worker", "make_stack", "provider_worker", "slow_lane", "realtime_lane"}


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config):
    """pytest-timeout's per-test limit (`timeout` in pyproject.toml) scales with TEST_TIME_FACTOR,
    unless --timeout or PYTEST_TIMEOUT names one."""
    if config.getoption("timeout", None) is None and not os.environ.get("PYTEST_TIMEOUT"):
        configured = config.getini("timeout")
        if configured:
            config.option.timeout = scaled(float(configured))


def pytest_collection_modifyitems(config, items):
    for item in items:
        if WORKER_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def backend(tmp_path_factory):
    """Exports DATABASE_URL/REDIS_URL/... for this run and migrates the database to head."""
    kind = choose_backend()
    instance = tmp_path_factory.mktemp("instance")
    saved = dict(os.environ)
    os.environ.update(TEST_ENVIRONMENT)
    os.environ["RECORDINGS_DIR"] = str(instance / "recordings")
    os.environ["INSTANCE_PATH"] = str(instance)
    os.environ["REDIS_NAMESPACE"] = f"test-{uuid.uuid4().hex[:8]}"  # runs sharing a Redis server stay apart
    pg_name = None
    if kind == "services":
        if not (postgres_answers() and redis_answers()):
            pytest.exit("TEST_BACKEND=services but PostgreSQL or Redis does not answer", returncode=3)
        pg_name, os.environ["DATABASE_URL"] = create_pg_database()
        os.environ["REDIS_URL"] = REDIS_SERVER_URL
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{instance / 'test.db'}"
        os.environ.pop("REDIS_URL", None)
    migrate()
    yield {"kind": kind, "instance": instance, "database_url": os.environ["DATABASE_URL"]}
    if kind == "embedded":
        from webapp.embedded_redis import stop_embedded_redis

        stop_embedded_redis(instance)
    os.environ.clear()
    os.environ.update(saved)
    if pg_name:
        drop_pg_database(pg_name)


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
def logged_in(client, tenant):
    """The test client logged in as the tenant's owner; returns the CSRF token."""
    return login(client, tenant.email, tenant.password)


@pytest.fixture(scope="session")
def live_server(app):
    """The app served over real HTTP (and WebSocket) by a threaded server in this process."""
    served = ServedApp(app)
    yield served.url
    served.stop()


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
