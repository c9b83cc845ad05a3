"""The call state machine: provider snapshots advance calls, idempotently and only forward.

Jobs and provider webhooks call these functions; nothing here blocks for a call's duration. Every
side effect (live events, the finalize job, webhooks, the recording) is recorded in the same
transaction as the change and dispatched after its commit (webapp.outbox); services.sweeps finds
and re-dispatches whatever a dead worker or an unreachable Redis left undone.
"""

import logging

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import orm

from .. import events
from ..extensions import db
from ..models import ACTIVE_CALL_STATUSES, TERMINAL_CALL_STATUSES, Call, Task, TranscriptTurn, utcnow
from ..outbox import after_commit, enqueue_after_commit, publish_after_commit
from ..queues import job
from ..telephony.base import CallSnapshot, ProviderError
from . import agent_sync, attempts, change_clock, dispatch, dnc, recordings, reports, webhooks
from .provider_gateway import call_ref, call_request, provider

log = logging.getLogger(__name__)

# What placing and finalizing a call read: its task and agent in the same statement. Placing a new
# call has no turns to read; finalizing reads them (the report) when it needs them.
WITH_TASK_AND_AGENT = (orm.joinedload(Call.task), orm.joinedload(Call.agent), orm.lazyload(Call.turns))

SYNC_BATCH_SIZE = 100  # calls per transaction in a sync pass
STATUS_ORDER = {"initiated": 0, "in_progress": 1, "completed": 2, "failed": 2}
TASK_STATUS_FOR_CALL = {"completed": "completed", "failed": "failed"}


def status_message(call: Call) -> dict:
    return events.message(
        "call_status_update",
        {
            "call_id": call.id,
            "status": call.status,
            "failure_reason": call.failure_reason,
            "end_reason": call.end_reason,
        },
    )


def transcript_message(call: Call, new_turns: list[dict]) -> dict:
    return events.message(
        "transcript_update", {"call_id": call.id, "transcript": call.transcript, "new_turns": new_turns}
    )


@job(queue="calls")
def start_call(call_id: str) -> str:
    """Ask the provider to place the call, at most once: the placement is claimed first, so a
    re-dispatched job finds it claimed (a call whose worker died while placing it is closed by the
    sweep after CALL_PLACE_TIMEOUT_SECONDS; placing it again could ring the callee twice)."""
    claimed = db.session.execute(
        sa.update(Call)
        .where(Call.id == call_id, Call.placing_started_at.is_(None), Call.status.in_(ACTIVE_CALL_STATUSES))
        .values(placing_started_at=utcnow())
    ).rowcount
    db.session.commit()
    if not claimed:
        return "nothing to do"
    call = db.session.get(Call, call_id, options=WITH_TASK_AND_AGENT)
    try:
        agent_sync.ensure_current(call.agent)
        placed = provider().place_call(call_request(call))
    except ProviderError as exc:
        fail_call(call, "provider_error", exc.message)
        return "provider error"
    call.provider_call_id = placed.provider_call_id
    call.provider_data = placed.provider_data
    call.last_event_at = utcnow()
    webhooks.schedule(call, "call_started")
    change_clock.schedule_after_commit(call)
    db.session.commit()
    return "placed"


def fail_call(call: Call, reason: str, message: str | None = None) -> None:
    apply_snapshot(call, CallSnapshot(status="failed", failure_reason=reason, error_message=message))


def merge_turns(call: Call, snapshot: CallSnapshot) -> list[dict]:
    """Bring stored turns in line with the snapshot; returns the turns that are new or changed."""
    changed = []
    existing = {turn.position: turn for turn in call.turns}
    for position, turn in enumerate(snapshot.turns):
        stored = existing.get(position)
        fields = turn.as_dict()
        if stored is None:
            call.turns.append(TranscriptTurn(position=position, **fields))
            changed.append(fields)
        elif stored.as_dict() != fields:
            for name, value in fields.items():
                setattr(stored, name, value)
            changed.append(fields)
    return changed


def _advance_status(call: Call, snapshot: CallSnapshot) -> bool:
    if STATUS_ORDER[snapshot.status] <= STATUS_ORDER[call.status]:
        return False
    now = utcnow()
    call.status = snapshot.status
    if snapshot.status == "in_progress":
        call.answered_at = now
    if snapshot.is_terminal:
        call.ended_at = now
        call.failure_reason = snapshot.failure_reason if snapshot.status == "failed" else None
        call.end_reason = snapshot.end_reason if snapshot.status == "completed" else None
        call.error_message = snapshot.error_message
        if call.answered_at is None and snapshot.status == "completed":
            call.answered_at = now
        task = db.session.get(Task, call.task_id)
        if task is not None and task.last_call_id == call.id:
            task.status = TASK_STATUS_FOR_CALL[snapshot.status]
            task.finished_at = now
            attempts.settle(task, call, now)
    return True


def copy_details(call: Call, snapshot: CallSnapshot) -> bool:
    """Copy the provider's end-of-call details; returns whether anything changed."""
    changed = False
    for name in ("duration_seconds", "cost_credits", "cost_usd", "termination_reason", "analysis"):
        value = getattr(snapshot, name)
        if value is not None and getattr(call, name) != value:
            setattr(call, name, value)
            changed = True
    if snapshot.events and call.events != [dict(event) for event in snapshot.events]:
        call.events = [dict(event) for event in snapshot.events]
        changed = True
    return changed


def stage_snapshot(call: Call, snapshot: CallSnapshot) -> bool:
    """Apply what the provider says now to the row, without committing; the live events (and the
    finalize job when the call ended) go out once the transaction commits. Returns False for a
    duplicate, late or backwards snapshot: it changes nothing."""
    if call.finalized_at is not None:
        return False
    new_turns = merge_turns(call, snapshot) if snapshot.turns else []
    status_changed = _advance_status(call, snapshot)
    details_changed = copy_details(call, snapshot)
    if not (new_turns or status_changed or details_changed):
        return False
    call.last_event_at = utcnow()
    # The call is in progress before its first words arrive (status first), and they arrive
    # before it ends (turns first).
    if status_changed and call.status == "in_progress":
        publish_after_commit(call.id, status_message(call))
    if new_turns:
        publish_after_commit(call.id, transcript_message(call, new_turns))
    if status_changed:
        if call.status != "in_progress":
            publish_after_commit(call.id, status_message(call))
        if not call.is_active:
            enqueue_after_commit(finalize_call, call.id)
            after_commit(dispatch.request_dispatch, call.organization_id)  # a slot is free
    return True


def apply_snapshot(call: Call, snapshot: CallSnapshot) -> bool:
    """Apply what the provider says now and commit. Returns whether anything changed."""
    return commit_staged(call, lambda: stage_snapshot(call, snapshot))


def commit_staged(call: Call, stage) -> bool:
    """Run stage() (changes to the call and its turns; False: nothing to write) and commit. Another
    writer (the poller, a provider webhook, an API request) may store the same new turns first, or
    deadlock with this one on PostgreSQL (each new turn key-share locks the call row both update):
    then stage() runs again over what the other stored, which leaves only what is still new. After
    a deadlock the survivor may not have committed yet, so the next try can lose to it once more."""
    for _ in range(RACE_ATTEMPTS - 1):
        try:
            return _stage_and_commit(stage)
        except (sa.exc.IntegrityError, sa.exc.OperationalError) as exc:
            if not _lost_race(exc):
                raise
            db.session.rollback()
            db.session.refresh(call)
    return _stage_and_commit(stage)


def _stage_and_commit(stage) -> bool:
    if not stage():
        return False
    db.session.commit()
    return True


RACE_ATTEMPTS = 3
DEADLOCK_DETECTED = "40P01"


def _lost_race(exc: sa.exc.DBAPIError) -> bool:
    return isinstance(exc, sa.exc.IntegrityError) or getattr(exc.orig, "sqlstate", None) == DEADLOCK_DETECTED


def poll(call: Call) -> CallSnapshot | None:
    try:
        return provider().poll(call_ref(call))
    except ProviderError as exc:
        log.warning("poll failed for call %s: %s", call.id, exc.message)
        return None


def sync_call(call: Call) -> bool:
    snapshot = poll(call)
    if snapshot is None:
        db.session.rollback()
        return False
    return apply_snapshot(call, snapshot)


@job(queue="sync", every="SYNC_INTERVAL_SECONDS")
def sync_active_calls(limit: int = 5000) -> int:
    """One pass over every active call placed by the configured provider, SYNC_BATCH_SIZE calls per
    transaction: each batch is read fresh, polled, then applied and committed at once (a commit per
    call would expire, and so reload, every row still waiting). Returns how many changed."""
    active = (Call.status.in_(ACTIVE_CALL_STATUSES), Call.provider_call_id.is_not(None),
              Call.provider == current_app.config["TELEPHONY_PROVIDER"])  # fmt: skip
    call_ids = db.session.execute(
        sa.select(Call.id).where(*active).order_by(Call.last_event_at).limit(limit)
    ).scalars().all()  # fmt: skip
    changed = 0
    clocked = change_clock.enabled()
    for start in range(0, len(call_ids), SYNC_BATCH_SIZE):
        batch = call_ids[start : start + SYNC_BATCH_SIZE]
        if clocked:  # the change clock syncs these when they change; poll only the ones it lost
            clock_has = change_clock.scheduled(batch)
            batch = [call_id for call_id in batch if call_id not in clock_has]
            if not batch:
                continue
        calls = db.session.execute(sa.select(Call).where(Call.id.in_(batch), *active)).scalars().all()
        polled = [(call, snapshot) for call in calls if (snapshot := poll(call)) is not None]
        changed += sum(1 for call, snapshot in polled if stage_snapshot(call, snapshot))
        for call, _ in polled if clocked else ():
            change_clock.schedule_after_commit(call)
        db.session.commit()
    return changed


def sync_due_calls() -> tuple[int, float | None]:
    """Sync the calls whose next change (change_clock) has come, in one transaction; each is scored
    again by its next change once it commits. Returns how many were due, and the seconds until the
    next call not claimed here comes due (None: none is scheduled)."""
    call_ids, next_in = change_clock.claim_due()
    if not call_ids:
        return 0, next_in
    calls = db.session.execute(
        sa.select(Call).where(Call.id.in_(call_ids), Call.status.in_(ACTIVE_CALL_STATUSES))
    ).scalars().all()  # fmt: skip
    for call in calls:
        snapshot = poll(call)
        if snapshot is not None:
            stage_snapshot(call, snapshot)
        change_clock.schedule_after_commit(call)
    change_clock.forget_after_commit(set(call_ids) - {call.id for call in calls})
    try:
        db.session.commit()
    except sa.exc.DBAPIError as exc:  # e.g. a concurrent writer stored the same turn first
        db.session.rollback()
        log.warning("syncing %d due calls failed (%s); trying them again shortly", len(call_ids), exc.orig)
        change_clock.retry_soon(call_ids)
    return len(call_ids), next_in


@job(queue="calls", retry=(2, 10, 30))
def finalize_call(call_id: str) -> str:
    """Store the final transcript and report, settle the recording (fetched by its own job) and
    schedule the terminal webhook, in one transaction claimed by setting finalized_at: a second
    run, concurrent or late, changes nothing."""
    call = db.session.get(Call, call_id, options=WITH_TASK_AND_AGENT)
    if call is None or call.is_active or call.finalized_at is not None:
        return "nothing to do"
    final = None
    if call.provider_call_id:
        try:
            final = provider().fetch_final(call_ref(call))  # before any write: no lock held meanwhile
        except ProviderError as exc:
            log.warning("final fetch failed for call %s: %s", call.id, exc.message)
    now = utcnow()
    claimed = db.session.execute(
        sa.update(Call)
        .where(Call.id == call.id, Call.finalized_at.is_(None), Call.status.in_(TERMINAL_CALL_STATUSES))
        .values(finalized_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        return "nothing to do"
    call.finalized_at = now
    if final is not None:
        merge_turns(call, final)
        copy_details(call, final)
    call.report = report = reports.build_report(call)
    recordings.begin(call)
    webhooks.schedule(
        call, "call_completed" if call.status == "completed" else "call_failed", due_at=recordings.webhook_due(call)
    )
    db.session.commit()
    if (report or {}).get("extracted_data", {}).get("opt_outs"):  # not call.report: that reads the row again
        dnc.add_from_call(call)  # the callee asked not to be called again
    return "finalized"
