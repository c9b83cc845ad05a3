"""GET /healthz: is this deployment able to run calls? Database, Redis and a live worker.

Answers 200 with {"status": "ok", "checks": {...}} when all three are fine, else 503 with the same
shape naming what failed. No authentication and no rate limit: load balancers and `run.sh` poll it.
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, jsonify
from rq import Worker

from .extensions import db
from .queues import QUEUE_NAMES, queue

bp = Blueprint("health", __name__)

# A worker counts as alive when RQ still lists it (its key expires without heartbeats) and its
# last heartbeat is this recent. Workers beat at least once per job and the clock queues a job
# every SYNC_INTERVAL_SECONDS, so a healthy worker is seconds old at most.
HEARTBEAT_MAX_AGE_SECONDS = 60


def _check_database() -> dict:
    try:
        db.session.execute(sa.text("SELECT 1"))
        return {"ok": True}
    except sa.exc.SQLAlchemyError as exc:
        db.session.rollback()
        return {"ok": False, "error": type(exc).__name__}


def _check_redis() -> dict:
    try:
        queue().connection.ping()
        return {"ok": True}
    except Exception as exc:  # any Redis client error means unreachable
        return {"ok": False, "error": type(exc).__name__}


def _check_workers() -> dict:
    now = datetime.now(UTC)
    try:
        workers = {worker.name: worker for name in QUEUE_NAMES for worker in Worker.all(queue=queue(name))}
    except Exception as exc:
        return {"ok": False, "error": type(exc).__name__}
    ages = [
        (now - worker.last_heartbeat.replace(tzinfo=worker.last_heartbeat.tzinfo or UTC)).total_seconds()
        for worker in workers.values()
        if worker.last_heartbeat is not None
    ]
    alive = [age for age in ages if age <= HEARTBEAT_MAX_AGE_SECONDS]
    result = {"ok": bool(alive), "workers": len(alive)}
    if ages:
        result["last_heartbeat_seconds_ago"] = round(max(0.0, min(ages)), 1)
    if not alive:
        result["error"] = "no worker heartbeat: start one with `python worker.py`"
    return result


@bp.get("/healthz")
def healthz():
    checks = {"database": _check_database(), "redis": _check_redis()}
    checks["worker"] = _check_workers() if checks["redis"]["ok"] else {"ok": False, "error": "redis unreachable"}
    healthy = all(check["ok"] for check in checks.values())
    response = jsonify({"status": "ok" if healthy else "unavailable", "checks": checks})
    response.status_code = 200 if healthy else 503
    response.headers["Cache-Control"] = "no-store"
    return response
