"""Signed webhook deliveries, sent by RQ jobs with retries; every attempt is recorded.

A delivery row is created in the transaction of the change it reports, due at `next_attempt_at`;
its job is dispatched after that commit. A worker killed mid-POST leaves the row due: the sweep
sends it again, with the same X-Webhook-Id (the delivery id). A short Redis lease keeps two
workers from sending the same delivery at once.
"""

import hashlib
import hmac
import json
import logging
import time
from datetime import timedelta

import requests
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import lazyload

from ..extensions import db
from ..models import Call, Organization, WebhookAttempt, WebhookDelivery, utcnow
from ..models.base import new_id
from ..netguard import UnsafeAddress, resolve_safe_addresses
from ..outbox import enqueue_after_commit
from ..queues import end_lease, job, lease
from .analysis import report_excerpt, transcript_excerpt
from .scoping import owned

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = {408, 429}
TERMINAL_EVENTS = ("call_completed", "call_failed")
DUE_TOLERANCE = timedelta(seconds=1)  # RQ's scheduler may run a job a little before its time
USER_AGENT = "voice-agents-webhooks/1.0"
_http = requests.Session()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


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
    enqueue_after_commit(deliver, delivery_id, at=due_at)
    return delivery


def release_waiting(call: Call) -> int:
    """The call's recording is settled: terminal webhooks still waiting for it go now, saying so.
    Part of the caller's transaction."""
    waiting = db.session.execute(
        sa.select(WebhookDelivery).where(
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
        enqueue_after_commit(deliver, delivery.id)
    return len(waiting)


def retry_delays() -> tuple[float, ...]:
    """Seconds before attempts 2, 3, ... (default 10 s, 30 s, 2 min, 10 min, 30 min)."""
    return tuple(current_app.config["WEBHOOK_RETRY_DELAYS"])


def _post(delivery: WebhookDelivery, secret: str) -> tuple[int | None, str | None]:
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Webhook-Id": delivery.id,
        "X-Webhook-Event": delivery.event_type,
        "X-Webhook-Signature": sign(secret, int(time.time()), body),
    }
    response = _http.post(
        delivery.url, data=body, headers=headers, allow_redirects=False,
        timeout=current_app.config["WEBHOOK_TIMEOUT_SECONDS"],
    )  # fmt: skip
    if 300 <= response.status_code < 400:
        return response.status_code, "redirects are not followed"
    return response.status_code, None


def lease_seconds() -> float:
    return current_app.config["WEBHOOK_TIMEOUT_SECONDS"] + 5


@job(queue="webhooks")
def deliver(delivery_id: str) -> str:
    """One attempt, if the delivery is due and no other worker is sending it right now."""
    key = f"delivery:{delivery_id}"
    if not lease(key, lease_seconds()):
        return "being sent by another worker"
    try:
        found = db.session.execute(
            sa.select(WebhookDelivery, Organization.webhook_secret)
            .join(Organization, Organization.id == WebhookDelivery.organization_id)
            .where(WebhookDelivery.id == delivery_id)
            .options(lazyload(WebhookDelivery.attempts))
        ).first()
        if found is None or found[0].status in ("delivered", "failed"):
            return "nothing to do"
        delivery, secret = found
        if delivery.next_attempt_at is not None and delivery.next_attempt_at > utcnow() + DUE_TOLERANCE:
            return "not due yet"  # a duplicate dispatch; the scheduled one comes at next_attempt_at
        return _attempt(delivery, secret)
    finally:
        end_lease(key)


def _attempt(delivery: WebhookDelivery, secret: str) -> str:
    number = delivery.attempt_count + 1
    started = time.perf_counter()
    retryable = False
    status_code = None
    try:
        resolve_safe_addresses(delivery.url, allow_loopback=current_app.config.get("WEBHOOK_ALLOW_LOOPBACK", False))
        status_code, error = _post(delivery, secret)
        retryable = status_code in RETRYABLE_STATUSES or status_code >= 500
        if error is None and not (200 <= status_code < 300):
            error = f"HTTP {status_code}"
    except UnsafeAddress as exc:
        error = f"refused: {exc}"
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        retryable = True
    latency_ms = int((time.perf_counter() - started) * 1000)
    # Added on its own, not appended to delivery.attempts (which would load every earlier attempt).
    db.session.add(
        WebhookAttempt(
            delivery_id=delivery.id, number=number, status_code=status_code, latency_ms=latency_ms, error=error
        )
    )
    delivery.attempt_count = number
    return _settle(delivery, succeeded=error is None, retryable=retryable)


def _settle(delivery: WebhookDelivery, *, succeeded: bool, retryable: bool) -> str:
    delays = retry_delays()
    if succeeded:
        delivery.status, delivery.delivered_at, delivery.next_attempt_at = "delivered", utcnow(), None
    elif retryable and delivery.attempt_count <= len(delays):
        delay = delays[delivery.attempt_count - 1]
        delivery.status, delivery.next_attempt_at = "retrying", utcnow() + timedelta(seconds=delay)
    else:
        delivery.status, delivery.next_attempt_at = "failed", None
    status = delivery.status
    if status == "retrying":
        enqueue_after_commit(deliver, delivery.id, at=delivery.next_attempt_at)
    db.session.commit()  # expires the row: reading it afterwards would load it (and its attempts) again
    return status


def deliveries_for_call(org_id: str, call_id: str) -> list[WebhookDelivery]:
    return list(
        db.session.execute(
            owned(WebhookDelivery, org_id)
            .where(WebhookDelivery.call_id == call_id)
            .order_by(WebhookDelivery.created_at)
        ).scalars()
    )
