"""Sweeps: find every kind of stranded work from the rows themselves and dispatch it again.

Each one is idempotent (the jobs they queue claim their work, so a duplicate changes nothing) and
leaves alone what is younger than REDISPATCH_AFTER_SECONDS, which its first dispatch is still
expected to do:
- active calls that stopped getting updates, or whose placement never finished, are closed (`failed`);
- calls never picked up by a worker are placed (if still young enough to place at all);
- terminal calls without `finalized_at` are finalized;
- recordings still `pending` are fetched again (each less and less often);
- webhook deliveries due but not attempted are sent again, with the same X-Webhook-Id;
- agent syncs left `pending`, or failed long enough ago, are queued again.
"""

import logging
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import ACTIVE_CALL_STATUSES, TERMINAL_CALL_STATUSES, Call, WebhookDelivery, utcnow
from ..outbox import enqueue_after_commit
from ..queues import job, not_waiting
from . import agent_sync, engine, provider_gateway, recordings, webhooks

log = logging.getLogger(__name__)

BATCH = 500


def _grace() -> timedelta:
    return timedelta(seconds=current_app.config["REDISPATCH_AFTER_SECONDS"])


@job(queue="default", every="SWEEP_INTERVAL_SECONDS")
def sweep() -> dict:
    done = {
        "closed": close_stale_calls(),
        "placed": redispatch_unplaced(),
        "finalized": redispatch_finalize(),
        "recordings": redispatch_recordings(),
        "deliveries": redispatch_deliveries(),
        "agents": agent_sync.redispatch_pending(_grace()) + agent_sync.retry_failed(),
    }
    if any(done.values()):
        log.info("sweep: %s", done)
    return done


def close_stale_calls() -> int:
    """Bring calls that stopped getting updates to a terminal state: nothing stays in progress."""
    config = current_app.config
    now = utcnow()
    stale_before = now - timedelta(seconds=config["CALL_STALE_SECONDS"])
    # A claimed placement that never finished (its worker died while dialling: dialling again could
    # ring twice) is closed after CALL_PLACE_TIMEOUT_SECONDS; one no worker ever claimed gets that
    # long again after its re-dispatch (redispatch_unplaced) before it is given up.
    place_timeout = timedelta(seconds=config["CALL_PLACE_TIMEOUT_SECONDS"])
    stale = db.session.execute(
        sa.select(Call).where(
            Call.status.in_(ACTIVE_CALL_STATUSES),
            sa.or_(
                Call.last_event_at < stale_before,
                sa.and_(Call.provider_call_id.is_(None), Call.placing_started_at < now - place_timeout),
                sa.and_(Call.provider_call_id.is_(None), Call.placing_started_at.is_(None),
                        Call.created_at < now - place_timeout - _grace()),
            ),
        ).limit(BATCH)
    ).scalars().all()  # fmt: skip
    replace_placements = provider_gateway.unstored_placement_never_rang()
    for call in stale:
        ours = call.provider == config["TELEPHONY_PROVIDER"]  # another provider's call can't be polled
        if ours and replace_placements and _release_unstored_placement(call):
            continue
        if call.provider_call_id and ours and engine.sync_call(call) and not call.is_active:
            continue
        if call.is_active:
            if call.provider_call_id:
                engine.fail_call(call, "timeout", "No progress from the provider; the call was closed by the sweep")
            else:
                engine.fail_call(call, "provider_error", "The call was never placed (worker stopped?)")
    return len(stale)


def _release_unstored_placement(call: Call) -> bool:
    """A claimed placement that never stored its result, on a provider where that means it never
    rang: the claim is released (only if it is still the same claim) and the call placed again."""
    if call.provider_call_id is not None or call.placing_started_at is None:
        return False
    released = db.session.execute(
        sa.update(Call)
        .where(Call.id == call.id, Call.provider_call_id.is_(None), Call.placing_started_at == call.placing_started_at)
        .values(placing_started_at=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if released:
        enqueue_after_commit(engine.start_call, call.id)
    db.session.commit()
    return bool(released)


def redispatch_unplaced() -> int:
    """Calls whose placement job was lost before any worker claimed it (Redis down at execute)."""
    ids = db.session.execute(
        sa.select(Call.id).where(
            Call.status == "initiated", Call.placing_started_at.is_(None), Call.provider_call_id.is_(None),
            Call.created_at <= utcnow() - _grace(),
        ).limit(BATCH)
    ).scalars().all()  # fmt: skip
    return _dispatch(engine.start_call, ids)


def redispatch_finalize() -> int:
    ids = db.session.execute(
        sa.select(Call.id).where(
            Call.finalized_at.is_(None), Call.status.in_(TERMINAL_CALL_STATUSES), Call.ended_at <= utcnow() - _grace()
        ).limit(BATCH)
    ).scalars().all()  # fmt: skip
    return _dispatch(engine.finalize_call, ids)


def redispatch_recordings() -> int:
    ids = db.session.execute(
        sa.select(Call.id).where(Call.recording_status == "pending", Call.finalized_at <= utcnow() - _grace())
        .limit(BATCH)
    ).scalars().all()  # fmt: skip
    waiting = recordings.waiting_for_next_look(ids)
    return _dispatch(recordings.store_recording, [call_id for call_id in ids if call_id not in waiting])


def redispatch_deliveries() -> int:
    """Deliveries due for longer than the grace with no attempt recorded since (a worker killed
    mid-POST, a lost job). Their due time moves to now, so each is re-sent once per grace period."""
    cutoff = utcnow() - _grace()
    due = db.session.execute(
        sa.select(WebhookDelivery).where(
            WebhookDelivery.status.in_(("pending", "retrying")),
            sa.or_(
                WebhookDelivery.next_attempt_at <= cutoff,
                sa.and_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.created_at <= cutoff),
            ),
        ).limit(BATCH)
    ).scalars().all()  # fmt: skip
    now = utcnow()
    for delivery in due:
        delivery.next_attempt_at = now
        webhooks.dispatch_after_commit(delivery.id)
    db.session.commit()
    return len(due)


def _dispatch(func, ids) -> int:
    """Queue func(id) again for each id whose job is not already waiting in a queue."""
    lost = not_waiting(func, list(ids))
    for item in lost:
        enqueue_after_commit(func, item)
    db.session.commit()
    return len(lost)
