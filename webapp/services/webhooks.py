"""Signed webhook deliveries, sent by RQ jobs with retries; every attempt is recorded."""

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
from ..netguard import UnsafeAddress, resolve_safe_addresses
from ..queues import enqueue_job
from .analysis import report_excerpt, transcript_excerpt
from .scoping import owned

log = logging.getLogger(__name__)

RETRYABLE_STATUSES = {408, 429}
USER_AGENT = "voice-agents-webhooks/1.0"
_http = requests.Session()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def payload_for(call: Call, event_type: str, delivery_id: str) -> dict:
    report = call.report or {}
    return {
        "event_type": event_type,
        "event_id": delivery_id,
        "occurred_at": utcnow().isoformat().replace("+00:00", "Z"),
        "task_id": call.task_id,
        "call_id": call.id,
        "status": call.status,
        "data": {
            "failure_reason": call.failure_reason,
            "end_reason": call.end_reason,
            "duration_seconds": call.duration_seconds,
            "transcript_excerpt": transcript_excerpt(call.transcript),
            "report_excerpt": report_excerpt(report) if report else "",
            "outcome": report.get("outcome"),
            "call_successful": report.get("call_successful"),
        },
    }


def schedule(call: Call, event_type: str) -> WebhookDelivery | None:
    """Create the delivery (once per call and event) and queue its first attempt."""
    task = call.task
    if not task.webhook_url or event_type not in (task.webhook_events or []):
        return None
    delivery = WebhookDelivery(
        organization_id=call.organization_id, call_id=call.id, task_id=call.task_id,
        event_type=event_type, url=task.webhook_url, payload={}, status="pending",
    )  # fmt: skip
    db.session.add(delivery)
    try:
        db.session.flush()
    except sa.exc.IntegrityError:
        db.session.rollback()  # already scheduled by an earlier run of the same job
        return None
    delivery.payload = payload_for(call, event_type, delivery.id)
    db.session.commit()
    enqueue_job("deliver_webhook", delivery.id)
    return delivery


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


def deliver(delivery_id: str) -> str:
    found = db.session.execute(
        sa.select(WebhookDelivery, Organization.webhook_secret)
        .join(Organization, Organization.id == WebhookDelivery.organization_id)
        .where(WebhookDelivery.id == delivery_id)
        .options(lazyload(WebhookDelivery.attempts))
    ).first()
    if found is None or found[0].status in ("delivered", "failed"):
        return "nothing to do"
    delivery, secret = found
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
    delivery_id, status, next_attempt_at = delivery.id, delivery.status, delivery.next_attempt_at
    db.session.commit()  # expires the row: reading it afterwards would load it (and its attempts) again
    if status == "retrying":
        enqueue_job("deliver_webhook", delivery_id, at=next_attempt_at)
    return status


def deliveries_for_call(org_id: str, call_id: str) -> list[WebhookDelivery]:
    return list(
        db.session.execute(
            owned(WebhookDelivery, org_id)
            .where(WebhookDelivery.call_id == call_id)
            .order_by(WebhookDelivery.created_at)
        ).scalars()
    )
