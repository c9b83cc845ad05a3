"""/healthz answers 200 only when the database, Redis and a worker (by its heartbeat) are there."""

import uuid

from tests.support import ScopedClient, wait_until


def _isolated_app(backend):
    """The test app on a Redis namespace of its own, so no other test's worker counts here."""
    from webapp import create_app

    namespace = f"health-{uuid.uuid4().hex[:8]}"
    return create_app({"TESTING": True, "REDIS_NAMESPACE": namespace}, instance_path=backend["instance"]), namespace


def test_healthz_waits_for_a_worker_and_names_what_is_missing(backend, start_worker):
    app, namespace = _isolated_app(backend)
    client = ScopedClient(app)

    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"] == {"ok": True}
    assert body["checks"]["redis"] == {"ok": True}
    assert body["checks"]["worker"]["ok"] is False
    assert "worker.py" in body["checks"]["worker"]["error"]

    worker = start_worker(extra_env={"REDIS_NAMESPACE": namespace})
    healthy = wait_until(
        lambda: client.get("/healthz").status_code == 200, timeout=90, message="a healthy /healthz"
    )  # a worker boots slowly on a loaded machine
    assert healthy
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["checks"]["worker"]["workers"] == 1
    assert body["checks"]["worker"]["last_heartbeat_seconds_ago"] < 60

    worker.stop()  # a stopped worker unregisters itself
    wait_until(lambda: client.get("/healthz").status_code == 503, timeout=90, message="/healthz to notice the stop")


def test_healthz_needs_no_login(backend):
    app, _ = _isolated_app(backend)
    client = ScopedClient(app)
    statuses = {client.get("/healthz").status_code for _ in range(3)}
    assert statuses == {503}  # no worker here; never a login redirect or 401
