"""The fast state-machine layer: the real services on a database of its own (the sweeps see only
these tests' calls) and the run's Redis, a scripted provider, and no worker process. Jobs that the
services queue after their commits stay in this layer's own Redis namespace (no worker of the run
sees them) until `jobs.run()` performs them here."""

import os
import uuid

import pytest
from rq import Queue

from tests.emulators import WebhookReceiver
from tests.state.scripted import ScriptedProvider
from tests.support import create_pg_database, drop_pg_database, migrate


class Jobs:
    """The jobs queued in the fast app's namespace, performed in this process on demand."""

    def __init__(self, app):
        from webapp.queues import QUEUE_NAMES, queue

        self.app = app
        self.queues: list[Queue] = [queue(name) for name in QUEUE_NAMES]

    def queued(self) -> list[tuple[str, tuple]]:
        return [(job.func_name.rsplit(".", 1)[-1], tuple(job.args)) for q in self.queues for job in q.jobs]

    def scheduled(self) -> list[str]:
        return [job_id for q in self.queues for job_id in q.scheduled_job_registry.get_job_ids()]

    def drop(self) -> int:
        """Lose every queued job, as a Redis flush or a killed worker would."""
        lost = sum(q.count for q in self.queues)
        for q in self.queues:
            q.empty()
        return lost

    def run(self, rounds: int = 10) -> list[str]:
        """Perform queued jobs (and those they queue) until none are left; returns their names."""
        from webapp.extensions import db

        done = []
        for _ in range(rounds):
            batch = [job for q in self.queues for job in q.jobs]
            if not batch:
                return done
            for q in self.queues:
                q.empty()
            for job in batch:
                db.session.remove()
                job.perform()
                done.append(job.func_name.rsplit(".", 1)[-1])
            db.session.remove()
        raise AssertionError(f"jobs still queued after {rounds} rounds: {self.queued()}")


@pytest.fixture(scope="session")
def scripted():
    from webapp import telephony

    provider = ScriptedProvider()
    telephony.register(provider)
    return provider


@pytest.fixture(scope="session")
def state_database(backend, tmp_path_factory):
    """A database of this layer's own, migrated to head; its SQLAlchemy URL."""
    from webapp.config import database_url_from_env

    if backend["kind"] == "services":
        name, url = create_pg_database("va_state")
    else:
        name, url = None, f"sqlite:///{tmp_path_factory.mktemp('state') / 'state.db'}"
    migrate({**os.environ, "DATABASE_URL": url})
    saved = os.environ["DATABASE_URL"]
    os.environ["DATABASE_URL"] = url
    try:
        resolved = database_url_from_env(backend["instance"])
    finally:
        os.environ["DATABASE_URL"] = saved
    yield resolved
    if name:
        drop_pg_database(name)


@pytest.fixture
def fast_app(app, backend, scripted, state_database):
    """An app with the scripted provider, its own database and its own Redis namespace."""
    from webapp import create_app
    from webapp.extensions import db

    fast = create_app(
        {"TESTING": True, "TELEPHONY_PROVIDER": "scripted", "REDIS_NAMESPACE": f"state-{uuid.uuid4().hex[:8]}",
         "SQLALCHEMY_DATABASE_URI": state_database, "REDISPATCH_AFTER_SECONDS": 0, "RECORDING_WAIT_SECONDS": 60,
         "WEBHOOK_RETRY_DELAYS": (30,)},
        instance_path=backend["instance"],
    )  # fmt: skip
    with fast.app_context():
        yield fast
        db.session.remove()


@pytest.fixture
def jobs(fast_app):
    """Whatever a test leaves queued is run at its end, so the next test's sweeps start clean."""
    queues = Jobs(fast_app)
    yield queues
    try:
        queues.run()
    finally:
        queues.drop()


@pytest.fixture
def receiver():
    with WebhookReceiver() as server:
        yield server
