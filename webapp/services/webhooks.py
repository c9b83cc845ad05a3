"""Signed webhook deliveries, sent by RQ jobs with retries; every attempt is recorded.

A delivery row is created in the transaction of the change it reports, due at `next_attempt_at`;
it is dispatched after that commit (see dispatch_after_commit: deliveries due now are sent in
batches). A worker killed mid-POST leaves the row due: the sweep sends it again, with the same
X-Webhook-Id (the delivery id). A short Redis lease keeps two workers from sending the same
delivery at once; the SSRF check (netguard) runs at delivery time, once per receiver host and batch.
"""

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from ..extensions import db
from ..models import Call, Organization, WebhookAttempt, WebhookDelivery, utcnow
from ..models.base import new_id
from ..netguard import AddressCheck, UnsafeAddress
from ..outbox import after_commit, enqueue_after_commit
from ..queues import end_leases, enqueue, job, lease_many, namespaced, redis_client
from . import webhook_http
from .analysis import report_excerpt, transcript_excerpt
from .scoping import owned
from .webhook_http import sign  # noqa: F401 - part of this module's interface (receivers' docs, tests)

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = {408, 429}
TERMINAL_EVENTS = ("call_completed", "call_failed")
DUE_TOLERANCE = timedelta(seconds=1)  # RQ's scheduler may run a job a little before its time
BATCH_SIZE = 50  # deliveries per deliver_due job
DUE_LIST = "webhooks:due"  # Redis list of delivery ids due now (namespaced)
DRAIN_QUEUED = "webhooks:drain-queued"  # set while a deliver_due job waits in the queue


def artifacts(call: Call) -> dict:
    """Which of the call's artifacts a receiver can fetch now."""
    recording = {"stored": "ready", "none": "none"}.get(call.recording_status or "", "pending")
    return {
        "transcript": "ready",
        "report": "ready" if call.report else "pending",
        "recording": recording,
        "recording_note": call.recording_note if recording != "ready" else None,
    }


def payload_for(call: Call, event_type: str, delivery_id: str) -> dict:
    report = call.report or {}
    data = {
        "failure_reason": call.failure_reason,
        "end_reason": call.end_reason,
        "duration_seconds": call.duration_seconds,
        "transcript_excerpt": transcript_excerpt(call.transcript),
        "report_excerpt": report_excerpt(report) if report else "",
        "outcome": report.get("outcome"),
        "call_successful": report.get("call_successful"),
    }
    if event_type in TERMINAL_EVENTS:
        data["artifacts"] = artifacts(call)
    return {
        "event_type": event_type,
        "event_id": delivery_id,
        "occurred_at": utcnow().isoformat().replace("+00:00", "Z"),
        "task_id": call.task_id,
        "call_id": call.id,
        "status": call.status,
        "data": data,
    }


def schedule(call: Call, event_type: str, due_at=None) -> WebhookDelivery | None:
    """Add the delivery (once per call and event) to the current transaction, due at `due_at`
    (default now); its first attempt is queued once that transaction commits."""
    task = call.task
    if not task.webhook_url or event_type not in (task.webhook_events or []):
        return None
    exists = db.session.execute(
        sa.select(WebhookDelivery.id).where(
            WebhookDelivery.call_id == call.id, WebhookDelivery.event_type == event_type
        )
    ).first()
    if exists:
        return None  # scheduled by an earlier run (the unique constraint backs this up)
    delivery_id = new_id()
    delivery = WebhookDelivery(
        id=delivery_id, organization_id=call.organization_id, call_id=call.id, task_id=call.task_id,
        event_type=event_type, url=task.webhook_url, payload=payload_for(call, event_type, delivery_id),
        status="pending", next_attempt_at=due_at or utcnow(),
    )  # fmt: skip
    db.session.add(delivery)
    dispatch_after_commit(delivery_id, at=due_at)
    return delivery


def release_waiting(call: Call) -> int:
    """The call's recording is settled: terminal webhooks still waiting for it go now, saying so.
    Part of the caller's transaction."""
    waiting = db.session.execute(
        sa.select(WebhookDelivery).options(orm.lazyload(WebhookDelivery.attempts)).where(
            WebhookDelivery.call_id == call.id,
            WebhookDelivery.event_type.in_(TERMINAL_EVENTS),
            WebhookDelivery.status == "pending",
            WebhookDelivery.attempt_count == 0,
            WebhookDelivery.next_attempt_at > utcnow(),
        )
    ).scalars().all()  # fmt: skip
    for delivery in waiting:
        delivery.payload = {**delivery.payload, "data": {**delivery.payload["data"], "artifacts": artifacts(call)}}
        delivery.next_attempt_at = utcnow()
        dispatch_after_commit(delivery.id)
    return len(waiting)


def retry_delays() -> tuple[float, ...]:
    """Seconds before attempts 2, 3, ... (default 10 s, 30 s, 2 min, 10 min, 30 min)."""
    return tuple(current_app.config["WEBHOOK_RETRY_DELAYS"])


def lease_seconds() -> float:
    return current_app.config["WEBHOOK_TIMEOUT_SECONDS"] + 5


# Dispatch. A delivery due now goes on a Redis list that `deliver_due` jobs drain BATCH_SIZE at a
# time (one RQ job, one read and one lease round trip per batch instead of per delivery); one due
# later (a retry, a terminal event waiting for its recording) is an RQ job at that time. Either way
# the row stays due until an attempt is committed, so a lost list entry or job is sent again by
# the sweep (services.sweeps), with the same X-Webhook-Id.


def dispatch_after_commit(delivery_id: str, at=None) -> None:
    """Send the delivery (at `at`, default now) once the current transaction commits."""
    if at is not None and at > utcnow() + DUE_TOLERANCE:
        enqueue_after_commit(deliver, delivery_id, at=at)
    else:
        after_commit(push_due, [delivery_id])


def push_due(delivery_ids: list[str]) -> None:
    """Queue deliveries that are due now (outside a transaction, or as an after-commit callback)."""
    if delivery_ids:
        redis_client().rpush(namespaced(DUE_LIST), *delivery_ids)
        _ensure_drain()


def _ensure_drain() -> None:
    """One `deliver_due` job waiting at a time; each takes the flag down as it starts."""
    if redis_client().set(namespaced(DRAIN_QUEUED), "1", ex=60, nx=True):
        enqueue(deliver_due)


@job(queue="webhooks")
def deliver_due() -> str:
    """Send the next BATCH_SIZE due deliveries. If more are waiting, another drain job is queued
    first, so the next free worker process sends those meanwhile."""
    pipe = redis_client().pipeline(transaction=False)
    pipe.delete(namespaced(DRAIN_QUEUED))
    pipe.lpop(namespaced(DUE_LIST), BATCH_SIZE)
    pipe.llen(namespaced(DUE_LIST))
    _, popped, remaining = pipe.execute()
    if remaining:
        _ensure_drain()
    ids = list(dict.fromkeys(raw.decode() for raw in popped or ()))
    return deliver_many(ids) if ids else "nothing due"


@job(queue="webhooks")
def deliver(delivery_id: str) -> str:
    """One attempt at one delivery (a scheduled retry), if it is due and nobody is sending it."""
    return deliver_many([delivery_id])


def deliver_many(delivery_ids: list[str]) -> str:
    """One attempt at each delivery that is due, not settled and not being sent by another worker
    right now (a Redis lease per delivery, taken for all of them in one round trip). The batch's
    attempts are recorded together, in one transaction after its POSTs: a worker killed before that
    commit leaves the rows due, and the sweep sends them again with the same X-Webhook-Id.
    Deliveries not reached before the leases would run out go back on the due list."""
    taken = lease_many([f"delivery:{i}" for i in delivery_ids], lease_seconds())
    mine = [delivery_id for delivery_id, ok in zip(delivery_ids, taken, strict=True) if ok]
    if not mine:
        return "being sent by another worker"
    outcomes: Counter = Counter()
    leased_at = time.monotonic()
    # an attempt starts only while the leases still cover a whole timeout after it (plus 1 s)
    budget = max(0.5, lease_seconds() - current_app.config["WEBHOOK_TIMEOUT_SECONDS"] - 1)
    try:
        rows = db.session.execute(_DUE_ROWS.where(WebhookDelivery.id.in_(mine))).all()
        db.session.rollback()  # no transaction held open across the HTTP requests
        addresses = AddressCheck(allow_loopback=current_app.config.get("WEBHOOK_ALLOW_LOOPBACK", False))
        attempts, left = [], []
        for row in rows:
            if time.monotonic() - leased_at > budget:
                left.append(row.id)
            elif row.next_attempt_at is not None and row.next_attempt_at > utcnow() + DUE_TOLERANCE:
                outcomes["not due yet"] += 1  # a duplicate dispatch; the scheduled one comes later
            else:
                attempts.append(_attempt(row, addresses))
        outcomes.update(_record(attempts))
        if left:
            push_due(left)
            outcomes["requeued"] += len(left)
    finally:
        end_leases([f"delivery:{i}" for i in mine])
    return ", ".join(f"{n} {what}" for what, n in sorted(outcomes.items())) or "nothing to do"


_DUE_ROWS = (
    sa.select(WebhookDelivery.id, WebhookDelivery.url, WebhookDelivery.payload, WebhookDelivery.event_type,
              WebhookDelivery.attempt_count, WebhookDelivery.next_attempt_at, Organization.webhook_secret)
    .join(Organization, Organization.id == WebhookDelivery.organization_id)
    .where(WebhookDelivery.status.in_(("pending", "retrying")))
    .order_by(WebhookDelivery.created_at, WebhookDelivery.id)  # oldest first
)  # fmt: skip


@dataclass(frozen=True)
class Attempt:
    delivery_id: str
    number: int
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None
    retryable: bool


def _attempt(row, addresses: AddressCheck) -> Attempt:
    attempted_at = utcnow()
    started = time.perf_counter()
    retryable = False
    status_code = None
    error = None
    try:
        addresses.check(row.url)
        body = json.dumps(row.payload, separators=(",", ":")).encode()
        status_code = webhook_http.post(
            row.url, body, secret=row.webhook_secret, delivery_id=row.id, event_type=row.event_type,
            timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"],
        )  # fmt: skip
        retryable = status_code in RETRYABLE_STATUSES or status_code >= 500
        if 300 <= status_code < 400:
            error = "redirects are not followed"
        elif not (200 <= status_code < 300):
            error = f"HTTP {status_code}"
    except UnsafeAddress as exc:
        error = f"refused: {exc}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        retryable = True
    latency_ms = int((time.perf_counter() - started) * 1000)
    return Attempt(row.id, row.attempt_count + 1, attempted_at, status_code, latency_ms, error, retryable)


_ATTEMPTS = WebhookAttempt.__table__
_DELIVERIES = WebhookDelivery.__table__
_SETTLE = (
    _DELIVERIES.update()
    .where(_DELIVERIES.c.id == sa.bindparam("delivery_id"))
    .values(status=sa.bindparam("new_status"), attempt_count=sa.bindparam("number"),
            next_attempt_at=sa.bindparam("next_at"), delivered_at=sa.bindparam("settled_at"))
)  # fmt: skip


def _record(attempts: list[Attempt]) -> Counter:
    """Every attempt and its delivery's new state, committed together: two statements for the whole
    batch (core, executemany), nothing loaded into the session. Returns how many of each status."""
    if not attempts:
        return Counter()
    delays = retry_delays()
    now = utcnow()
    settled = []
    for attempt in attempts:
        status, next_at = "failed", None
        if attempt.error is None:
            status = "delivered"
        elif attempt.retryable and attempt.number <= len(delays):
            status, next_at = "retrying", now + timedelta(seconds=delays[attempt.number - 1])
            enqueue_after_commit(deliver, attempt.delivery_id, at=next_at)
        settled.append({"delivery_id": attempt.delivery_id, "number": attempt.number, "new_status": status,
                        "next_at": next_at, "settled_at": now if status == "delivered" else None})  # fmt: skip
    connection = db.session.connection()
    connection.execute(_ATTEMPTS.insert(), [
        {"delivery_id": a.delivery_id, "number": a.number, "attempted_at": a.attempted_at,
         "status_code": a.status_code, "latency_ms": a.latency_ms, "error": a.error} for a in attempts
    ])  # fmt: skip
    connection.execute(_SETTLE, settled)
    db.session.commit()
    return Counter(row["new_status"] for row in settled)


def deliveries_for_call(org_id: str, call_id: str) -> list[WebhookDelivery]:
    return list(
        db.session.execute(
            owned(WebhookDelivery, org_id)
            .where(WebhookDelivery.call_id == call_id)
            .order_by(WebhookDelivery.created_at)
        ).scalars()
    )
